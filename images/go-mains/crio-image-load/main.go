// crio-image-load puts images into the containers-storage that CRI-O reads, under each of their names,
// as `ctr images import` does for containerd. A source is either a Docker image archive (what `docker
// save` writes) or an OCI image layout folder, whose index names its images with the
// org.opencontainers.image.ref.name annotation; with -shared-blobs, the layout's blobs are read from
// that folder instead (containerd's content store, say, so one copy of the preloaded images serves
// both runtimes). It is built against CRI-O's own image and storage libraries, so both agree on the
// store's layout; the store is the one /etc/containers/storage.conf names, as for CRI-O. With -tag it
// gives the image stored as SOURCE the further name TARGET instead (taking TARGET from any image that had it),
// as `ctr images tag --force` does.
//
//	crio-image-load [-shared-blobs DIR] SOURCE...
//	crio-image-load -tag SOURCE TARGET
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"

	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/signature"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/reexec"
)

func main() {
	// The store unpacks layers in a chrooted child of this same binary.
	if reexec.Init() {
		return
	}
	sharedBlobs := flag.String("shared-blobs", "", "read the blobs of OCI layouts from this folder")
	tag := flag.Bool("tag", false, "name the image SOURCE also TARGET")
	flag.Parse()
	if flag.NArg() == 0 || (*tag && flag.NArg() != 2) {
		fmt.Fprintln(os.Stderr, "usage: crio-image-load [-shared-blobs DIR] SOURCE... | crio-image-load -tag SOURCE TARGET")
		os.Exit(2)
	}
	var err error
	if *tag {
		err = addName(flag.Arg(0), flag.Arg(1))
	} else {
		err = load(context.Background(), &types.SystemContext{OCISharedBlobDirPath: *sharedBlobs}, flag.Args())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crio-image-load:", err)
		os.Exit(1)
	}
}

func openStore() (storage.Store, error) {
	opts, err := storage.DefaultStoreOptions()
	if err != nil {
		return nil, err
	}
	return storage.GetStore(opts)
}

// addName names the image stored as source also target; the store takes a name from the image that had it.
func addName(source, target string) error {
	store, err := openStore()
	if err != nil {
		return err
	}
	defer func() { _, _ = store.Shutdown(false) }()
	img, err := store.Image(source)
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	return store.AddNames(img.ID, []string{target})
}

// A named image of a source.
type image struct {
	name string
	ref  types.ImageReference
}

func load(ctx context.Context, sys *types.SystemContext, sources []string) error {
	store, err := openStore()
	if err != nil {
		return err
	}
	defer func() { _, _ = store.Shutdown(false) }()
	for _, path := range sources {
		if err := loadSource(ctx, sys, store, path); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

func loadSource(ctx context.Context, sys *types.SystemContext, store storage.Store, path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.IsDir() {
		images, err := layoutImages(path)
		if err != nil {
			return err
		}
		// A layout's images are separate references: copied side by side, one per CPU (a copy is mostly
		// decompressing layers), which shortened a node's first start of CRI-O.
		return copyAll(ctx, sys, store, images, runtime.NumCPU())
	}
	images, done, err := archiveImages(sys, path)
	if done != nil {
		defer done()
	}
	if err != nil {
		return err
	}
	// An archive's images share its one reader: one at a time.
	return copyAll(ctx, sys, store, images, 1)
}

// copyAll copies the images into the store, at most `parallel` at once; the first error is returned.
func copyAll(ctx context.Context, sys *types.SystemContext, store storage.Store, images []image, parallel int) error {
	work := make(chan image)
	errs := make(chan error, len(images))
	var wg sync.WaitGroup
	for range max(1, min(parallel, len(images))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for img := range work {
				errs <- copyOne(ctx, sys, store, img)
			}
		}()
	}
	for _, img := range images {
		work <- img
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func copyOne(ctx context.Context, sys *types.SystemContext, store storage.Store, img image) error {
	// The images come from the user's own engine or the node image: there are no signatures to check.
	policy, err := signature.NewPolicyContext(&signature.Policy{
		Default: []signature.PolicyRequirement{signature.NewPRInsecureAcceptAnything()},
	})
	if err != nil {
		return err
	}
	defer func() { _ = policy.Destroy() }()
	dest, err := istorage.Transport.ParseStoreReference(store, img.name)
	if err != nil {
		return err
	}
	if _, err := copy.Image(ctx, policy, dest, img.ref, &copy.Options{SourceCtx: sys, DestinationCtx: sys}); err != nil {
		return fmt.Errorf("%s: %w", img.name, err)
	}
	fmt.Println(img.name)
	return nil
}

func layoutImages(dir string) ([]image, error) {
	entries, err := layout.List(dir)
	if err != nil {
		return nil, err
	}
	var images []image
	for _, e := range entries {
		name := e.ManifestDescriptor.Annotations[imgspecv1.AnnotationRefName]
		if name == "" {
			return nil, fmt.Errorf("manifest %s has no %s to store it under", e.ManifestDescriptor.Digest, imgspecv1.AnnotationRefName)
		}
		images = append(images, image{name: name, ref: e.Reference})
	}
	return images, nil
}

// The archive's images under each of their tags; the references hold until done is called.
func archiveImages(sys *types.SystemContext, path string) ([]image, func(), error) {
	reader, err := archive.NewReader(sys, path)
	if err != nil {
		return nil, nil, err
	}
	done := func() { _ = reader.Close() }
	lists, err := reader.List()
	if err != nil {
		return nil, done, err
	}
	var images []image
	for _, refs := range lists {
		for _, ref := range refs {
			named := ref.DockerReference()
			if named == nil {
				return nil, done, fmt.Errorf("an image in the archive has no tag to store it under")
			}
			images = append(images, image{name: named.String(), ref: ref})
		}
	}
	return images, done, nil
}

// crio-image-load puts images into the containers-storage that CRI-O reads, under each of their names,
// as `ctr images import` does for containerd. A source is either a Docker image archive (what `docker
// save` writes) or an OCI image layout folder, whose index names its images with the
// org.opencontainers.image.ref.name annotation; with -shared-blobs, the layout's blobs are read from
// that folder instead (containerd's content store, say, so one copy of the preloaded images serves
// both runtimes). It is built against CRI-O's own image and storage libraries, so both agree on the
// store's layout; the store is the one /etc/containers/storage.conf names, as for CRI-O. With -tag it
// gives the image stored as SOURCE the further name TARGET instead (taking TARGET from any image that had it),
// as `ctr images tag --force` does. With -save it writes the stored images NAME... into one Docker image
// archive at FILE, as `ctr images export` does, which this program (or `docker load`) reads back.
//
//	crio-image-load [-shared-blobs DIR] SOURCE...
//	crio-image-load -tag SOURCE TARGET
//	crio-image-load -save FILE NAME...
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
	"go.podman.io/image/v5/docker/reference"
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
	saveTo := flag.String("save", "", "write the images NAME... into this Docker image archive")
	flag.Parse()
	if flag.NArg() == 0 || (*tag && flag.NArg() != 2) || (*tag && *saveTo != "") {
		fmt.Fprintln(os.Stderr, "usage: crio-image-load [-shared-blobs DIR] SOURCE... | crio-image-load -tag SOURCE TARGET | crio-image-load -save FILE NAME...")
		os.Exit(2)
	}
	var err error
	if *tag {
		err = addName(flag.Arg(0), flag.Arg(1))
	} else if *saveTo != "" {
		err = save(context.Background(), *saveTo, flag.Args())
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

// The images come from the user's own engine, the node image or the node's store: there are no signatures to check.
func anyImage() (*signature.PolicyContext, error) {
	return signature.NewPolicyContext(&signature.Policy{
		Default: []signature.PolicyRequirement{signature.NewPRInsecureAcceptAnything()},
	})
}

// save writes the stored images into one Docker image archive at path, each under its name.
func save(ctx context.Context, path string, names []string) error {
	store, err := openStore()
	if err != nil {
		return err
	}
	defer func() { _, _ = store.Shutdown(false) }()
	policy, err := anyImage()
	if err != nil {
		return err
	}
	defer func() { _ = policy.Destroy() }()
	// The archive writer takes only a new or empty file.
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	writer, err := archive.NewWriter(nil, path)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := saveOne(ctx, policy, store, writer, name); err != nil {
			_ = writer.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return writer.Close()
}

func saveOne(ctx context.Context, policy *signature.PolicyContext, store storage.Store, writer *archive.Writer, name string) error {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return err
	}
	tagged, ok := named.(reference.NamedTagged)
	if !ok {
		// A Docker archive names its images by tag only. An image known by its digest alone was pulled by
		// that digest, which names the same content wherever it is pulled again.
		fmt.Fprintf(os.Stderr, "crio-image-load: %s not saved: it has no tag (pulled by digest, it can be pulled again)\n", name)
		return nil
	}
	src, err := istorage.Transport.ParseStoreReference(store, name)
	if err != nil {
		return err
	}
	dest, err := writer.NewReference(tagged)
	if err != nil {
		return err
	}
	_, err = copy.Image(ctx, policy, dest, src, &copy.Options{})
	return err
}

func copyOne(ctx context.Context, sys *types.SystemContext, store storage.Store, img image) error {
	policy, err := anyImage()
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

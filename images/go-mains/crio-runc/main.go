// crio-runc is the OCI runtime CRI-O calls on a kubeyard node: it fits a container's config.json to what
// the node itself was given, then runs runc with the same arguments. A node is a container an engine made
// without --privileged, so three things a pod may ask for are beyond it, and containerd already steps
// around each of them where CRI-O has no setting to:
//   - an oom_score_adj below the node's own (the kubelet asks -998 for sandboxes), which needs
//     CAP_SYS_RESOURCE: raised to the node's, as containerd's restrict_oom_score_adj does;
//   - capabilities outside the node's bounding set (a privileged container asks for all of them):
//     limited to that set;
//   - hugetlb limits where the node has no hugetlb controller: dropped.
//
// And one thing of CRI-O's that runc 1.4 warns about into the container's own output: a pod user namespace
// given both by path and by its ID mappings. runc reads the mappings from the namespace it joins, so they go.
//
//	crio-runc [runc arguments...]
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const runc = "/usr/local/bin/runc"

func main() {
	if bundle, ok := creatingBundle(os.Args[1:]); ok {
		if err := fitConfig(filepath.Join(bundle, "config.json")); err != nil {
			fmt.Fprintf(os.Stderr, "crio-runc: %v\n", err)
			os.Exit(1)
		}
	}
	if err := syscall.Exec(runc, append([]string{runc}, os.Args[1:]...), os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "crio-runc: running %s: %v\n", runc, err)
		os.Exit(1)
	}
}

// creatingBundle finds the bundle of a `create` or `run`: its --bundle (or -b) value, else the working
// folder, as runc itself takes it.
func creatingBundle(args []string) (string, bool) {
	creating := false
	bundle := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "create" || a == "run":
			creating = true
		case (a == "--bundle" || a == "-b") && i+1 < len(args):
			bundle = args[i+1]
			i++
		case strings.HasPrefix(a, "--bundle="):
			bundle = strings.TrimPrefix(a, "--bundle=")
		}
	}
	if !creating {
		return "", false
	}
	if bundle == "" {
		bundle = "."
	}
	return bundle, true
}

func fitConfig(file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	changed := false
	if process, ok := spec["process"].(map[string]any); ok {
		changed = raiseOomScoreAdj(process) || changed
		changed = limitCapabilities(process) || changed
	}
	if linux, ok := spec["linux"].(map[string]any); ok {
		changed = dropHugepageLimits(linux) || changed
		changed = dropJoinedUsernsMappings(linux) || changed
	}
	if !changed {
		return nil
	}
	out, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	tmp := file + ".crio-runc"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

func raiseOomScoreAdj(process map[string]any) bool {
	asked, ok := process["oomScoreAdj"].(float64)
	if !ok {
		return false
	}
	raw, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return false
	}
	own, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || int(asked) >= own {
		return false
	}
	process["oomScoreAdj"] = own
	return true
}

// capabilityNames maps each bit of /proc's CapBnd to the name an OCI spec uses.
var capabilityNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// boundingSet is the node's own bounding set, by name; nil when /proc does not say.
func boundingSet() map[string]bool {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(raw), "\n") {
		hex, ok := strings.CutPrefix(line, "CapBnd:")
		if !ok {
			continue
		}
		bits, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			return nil
		}
		set := map[string]bool{}
		for i, name := range capabilityNames {
			if bits&(1<<uint(i)) != 0 {
				set[name] = true
			}
		}
		return set
	}
	return nil
}

func limitCapabilities(process map[string]any) bool {
	caps, ok := process["capabilities"].(map[string]any)
	if !ok {
		return false
	}
	allowed := boundingSet()
	if allowed == nil {
		return false
	}
	changed := false
	for kind, list := range caps {
		names, ok := list.([]any)
		if !ok {
			continue
		}
		kept := make([]any, 0, len(names))
		for _, n := range names {
			if s, ok := n.(string); ok && !allowed[s] {
				continue
			}
			kept = append(kept, n)
		}
		if len(kept) != len(names) {
			caps[kind] = kept
			changed = true
		}
	}
	return changed
}

func dropHugepageLimits(linux map[string]any) bool {
	resources, ok := linux["resources"].(map[string]any)
	if !ok {
		return false
	}
	if _, ok := resources["hugepageLimits"]; !ok || hasHugetlb() {
		return false
	}
	delete(resources, "hugepageLimits")
	return true
}

// hasHugetlb says whether the node's cgroups have the hugetlb controller (v2's list of controllers, or
// v1's hierarchy of its own).
func hasHugetlb() bool {
	if raw, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		for _, c := range strings.Fields(string(raw)) {
			if c == "hugetlb" {
				return true
			}
		}
		return false
	}
	_, err := os.Stat("/sys/fs/cgroup/hugetlb")
	return err == nil
}

func dropJoinedUsernsMappings(linux map[string]any) bool {
	namespaces, _ := linux["namespaces"].([]any)
	joins := false
	for _, n := range namespaces {
		if ns, ok := n.(map[string]any); ok && ns["type"] == "user" && ns["path"] != nil && ns["path"] != "" {
			joins = true
		}
	}
	_, uids := linux["uidMappings"]
	_, gids := linux["gidMappings"]
	if !joins || (!uids && !gids) {
		return false
	}
	delete(linux, "uidMappings")
	delete(linux, "gidMappings")
	return true
}

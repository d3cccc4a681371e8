package main

import (
	"os"

	"github.com/spf13/cobra"
	"k8s.io/kubernetes/test/images/agnhost/netexec"
)

func main() {
	root := &cobra.Command{Use: "agnhost"}
	root.AddCommand(netexec.CmdNetexec)
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}

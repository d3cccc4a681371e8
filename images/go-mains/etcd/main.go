package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

// etcd's own main package lives in a module whose replace directives cannot resolve from the proxy;
// this is the same entry point.
func main() { etcdmain.Main(os.Args) }

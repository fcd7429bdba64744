package main

import (
	"context"
	"path/filepath"

	"github.com/accountd/accountd/bench/internal/benchkit"
)

// fleet is what a run started, for every mode: close stops the servers
// first, then drops the databases they used.
type fleet struct {
	servers []*benchkit.Server
	drops   []func() error
}

func (f *fleet) stopServers() {
	for _, s := range f.servers {
		s.Stop()
	}
}

func (f *fleet) close() {
	f.stopServers()
	for _, drop := range f.drops {
		if err := drop(); err != nil {
			progress("%v", err)
		} else {
			progress("postgres: dropped the benchmark database")
		}
	}
}

// startHello starts the hello-world baseline from bin and checks it answers.
func (f *fleet) startHello(ctx context.Context, bin, tmp string) (*benchkit.Server, error) {
	srv, err := benchkit.StartServer(ctx, "hello", bin, []string{"--addr", "127.0.0.1:0"}, benchkit.ChildEnv(),
		filepath.Join(tmp, "hello.log"), benchkit.HelloAddr)
	if err != nil {
		return nil, err
	}
	f.servers = append(f.servers, srv)
	if err := benchkit.CheckHello(ctx, srv.Addr); err != nil {
		return nil, err
	}
	return srv, nil
}

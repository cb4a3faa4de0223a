package server_test

import (
	"net/http"
	"sync/atomic"

	"switchboard/config"
	"switchboard/pipeline"
	"switchboard/server"
	"switchboard/store"
)

var benchCounter atomic.Int64

func nextIndex() int64 { return benchCounter.Add(1) - 1 }

// newBenchServer is the server with only what webhook ingestion needs.
func newBenchServer(cfg *config.Config, st *store.Store) http.Handler {
	return server.New(server.Options{Config: cfg, Store: st, Web: http.NotFoundHandler(),
		Inbound: pipeline.NewInbound(pipeline.InboundOptions{Store: st})})
}

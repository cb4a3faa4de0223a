package server

import (
	"bytes"
	"net"
	"sync"
	"testing"
)

// countingConn records each write that reaches the network.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

// TestCoalescingConn: inside a batch the frames leave in one write, in order; outside one (the
// handshake, a pong from the reader) each write goes straight through, and a write from another
// goroutine during a batch leaves with it.
func TestCoalescingConn(t *testing.T) {
	under := &countingConn{}
	c := &coalescingConn{Conn: under}
	c.Write([]byte("HTTP/1.1 101"))
	if len(under.writes) != 1 {
		t.Fatalf("outside a batch: %d writes, want 1", len(under.writes))
	}
	c.batch()
	c.Write([]byte("frame1|"))
	c.Write([]byte("frame2|"))
	done := make(chan struct{})
	go func() { c.Write([]byte("pong|")); close(done) }()
	<-done
	if len(under.writes) != 1 {
		t.Fatalf("during a batch %d writes reached the network", len(under.writes)-1)
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	if len(under.writes) != 2 || string(under.writes[1]) != "frame1|frame2|pong|" {
		t.Fatalf("the batch left as %q", under.writes[1:])
	}
	if c.flush(); len(under.writes) != 2 {
		t.Fatal("an empty flush wrote")
	}
	c.Write([]byte("after"))
	if len(under.writes) != 3 || c.buf != nil {
		t.Fatalf("after the batch: %d writes, buffer kept %v", len(under.writes), c.buf != nil)
	}
}

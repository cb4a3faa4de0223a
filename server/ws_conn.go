package server

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// coalescingConn is a websocket's network connection that can hold back what is written to it: while
// the writer is sending the frames it found queued together (batch … flush), they collect in a buffer
// and leave in one system call instead of one each. Outside a batch, writes go straight through, so
// the handshake and the pongs and close replies the reader's goroutine writes are never delayed for
// long. An idle connection holds no buffer.
type coalescingConn struct {
	net.Conn
	mu       sync.Mutex
	batching bool
	buf      []byte
}

// coalesceBuffers are the buffers of batches in progress, reused between connections.
var coalesceBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

func (c *coalescingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.batching {
		return c.Conn.Write(p)
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// batch holds back writes until flush.
func (c *coalescingConn) batch() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		c.buf = (*coalesceBuffers.Get().(*[]byte))[:0]
	}
	c.batching = true
}

// flush writes what the batch collected, in one call, and ends the batch.
func (c *coalescingConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = false
	var err error
	if len(c.buf) > 0 {
		_, err = c.Conn.Write(c.buf)
	}
	if cap(c.buf) <= 64<<10 { // an outsized buffer (a long replay) is left to the collector
		b := c.buf[:0]
		coalesceBuffers.Put(&b)
	}
	c.buf = nil
	return err
}

// hijackCoalescing is the response of a websocket upgrade: the connection the upgrader hijacks
// becomes a coalescingConn.
type hijackCoalescing struct {
	http.ResponseWriter
	conn *coalescingConn
}

func (w *hijackCoalescing) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &coalescingConn{Conn: nc}
	return w.conn, brw, nil
}

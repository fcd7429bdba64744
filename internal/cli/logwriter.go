package cli

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logWriter buffers the server's log lines and writes them out every
// logFlushEvery, or sooner when the buffer fills: one write system call per
// request line was a tenth of the server's CPU under load. Close flushes
// what is left.
type logWriter struct {
	mu   sync.Mutex
	bw   *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

const logFlushEvery = 100 * time.Millisecond

func newLogWriter(w io.Writer) *logWriter {
	lw := &logWriter{bw: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(lw.done)
		t := time.NewTicker(logFlushEvery)
		defer t.Stop()
		for {
			select {
			case <-lw.stop:
				return
			case <-t.C:
				lw.Flush()
			}
		}
	}()
	return lw
}

func (lw *logWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.bw.Write(p)
}

// Flush writes out what is buffered.
func (lw *logWriter) Flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.bw.Flush()
}

// Close stops the flusher and flushes.
func (lw *logWriter) Close() error {
	close(lw.stop)
	<-lw.done
	return lw.Flush()
}

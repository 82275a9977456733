package node

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/puente-project/puente/internal/store"
)

// denialLog writes refused attempts to the store in the background, so that
// a refusal costs the request no write and answers as fast as an absent
// resource would. When more than its buffer arrive at once, the excess is
// counted and logged, never blocking requests.
type denialLog struct {
	st      store.Store
	logger  *slog.Logger
	c       chan store.Denial
	dropped atomic.Int64
	done    chan struct{}
	once    sync.Once
}

const denialBuffer = 1024

func newDenialLog(st store.Store, logger *slog.Logger) *denialLog {
	d := &denialLog{st: st, logger: logger, c: make(chan store.Denial, denialBuffer), done: make(chan struct{})}
	go d.run()
	return d
}

// record queues d without blocking.
func (d *denialLog) record(den store.Denial) {
	select {
	case d.c <- den:
	default:
		d.dropped.Add(1)
	}
}

// run writes what is queued, a batch at a time, until close.
func (d *denialLog) run() {
	defer close(d.done)
	for den := range d.c {
		batch := []store.Denial{den}
	more:
		for len(batch) < 256 {
			select {
			case x, ok := <-d.c:
				if !ok {
					break more
				}
				batch = append(batch, x)
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := d.st.RecordDenials(ctx, batch); err != nil {
			d.logger.ErrorContext(ctx, "record refused attempts", slog.Int("count", len(batch)), slog.Any("error", err))
		}
		cancel()
		if n := d.dropped.Swap(0); n > 0 {
			d.logger.WarnContext(context.Background(), "refused attempts not recorded: too many at once", slog.Int64("count", n))
		}
	}
}

// close writes what is queued and stops. Call it before closing the store.
func (d *denialLog) close() {
	d.once.Do(func() { close(d.c) })
	<-d.done
}

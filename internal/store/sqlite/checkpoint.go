package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// checkpointer copies committed pages from the WAL into the database file
// on a connection of its own, so that the writer, which would otherwise do
// it inside a commit every wal_autocheckpoint pages, spends its time on
// transactions. The writer's automatic checkpoint stays on, with a higher
// threshold, as back-pressure should this one fall behind.
type checkpointer struct {
	db      *sql.DB
	kick    chan struct{} // capacity 1: "there are new commits"
	stop    chan struct{}
	stopped chan struct{}
}

// checkpointDelay lets commits accumulate before a checkpoint, so that a
// page written by several of them is copied once.
const checkpointDelay = 100 * time.Millisecond

func newCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go c.loop()
	return c
}

// committed tells the checkpointer that the WAL grew. It never blocks.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.stopped)
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		select {
		case <-c.stop:
			return
		case <-time.After(checkpointDelay):
		}
		// PASSIVE never waits for readers or the writer; whatever it
		// cannot copy now is copied next time. An error (SQLITE_BUSY from
		// another process's checkpoint, say) is harmless for the same
		// reason, and the writer's automatic checkpoint is the backstop.
		rows, err := c.db.QueryContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		if err == nil {
			for rows.Next() {
			}
			_ = rows.Close()
		}
	}
}

// close stops the loop and waits for a checkpoint in progress.
func (c *checkpointer) close() {
	close(c.stop)
	<-c.stopped
}

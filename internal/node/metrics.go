package node

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/puente-project/puente/internal/auth"
)

// metrics serves the delivery accounting in the Prometheus text format
// (version 0.0.4), computed at each scrape from the database: per
// channel, the size released, the size acknowledged by receipt and the
// age of the oldest unacknowledged entry; per partner, the size verified,
// the time since, and the alerts recorded. Only the node's own auditors
// and admins may read it. Written with the standard library: a handful of
// gauges do not justify a client library in a binary governments run.
func (n *Node) metrics(w http.ResponseWriter, r *http.Request) {
	p, err := n.authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="puente", charset="UTF-8"`)
		http.Error(w, "authentication required: a local auditor or admin", http.StatusUnauthorized)
		return
	}
	if p.Party != n.cfg.Party || !hasAnyRole(p, "auditor", "admin") {
		http.Error(w, "forbidden: for the node's auditors and admins", http.StatusForbidden)
		return
	}
	ctx := r.Context()
	now := n.now()
	sts, err := LedgerStatus(ctx, n.st, n.cfg.Party)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	inbound, _, err := FederationStatus(ctx, n.st, n.cfg.Party, now)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	gauge := func(name, help string, rows func(add func(labels string, v float64))) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
		rows(func(labels string, v float64) { fmt.Fprintf(&b, "%s{%s} %g\n", name, labels, v) })
	}
	gauge("puente_log_entries", "Entries in each of this node's logs (a channel: what was released to that partner).", func(add func(string, float64)) {
		for _, s := range sts {
			add(fmt.Sprintf("channel=%q", s.Channel), float64(s.Size))
		}
	})
	gauge("puente_channel_acknowledged_entries", "Entries of a channel covered by the partner's latest receipt.", func(add func(string, float64)) {
		for _, s := range sts {
			if s.Partner != "" {
				add(fmt.Sprintf("channel=%q", s.Channel), float64(s.ReceiptSize))
			}
		}
	})
	gauge("puente_channel_oldest_unacknowledged_seconds", "Age of the oldest channel entry no receipt covers (0 when all are acknowledged).", func(add func(string, float64)) {
		for _, s := range sts {
			if s.Partner == "" {
				continue
			}
			age := 0.0
			if s.Unacknowledged > 0 && !s.OldestUnacknowledged.IsZero() {
				age = now.Sub(s.OldestUnacknowledged).Seconds()
			}
			add(fmt.Sprintf("channel=%q", s.Channel), age)
		}
	})
	gauge("puente_inbound_verified_entries", "Entries of a partner's channel to this node verified and stored.", func(add func(string, float64)) {
		for _, in := range inbound {
			add(fmt.Sprintf("channel=%q", in.Channel), float64(in.Verified))
		}
	})
	gauge("puente_inbound_seconds_since_verified", "Time since a partner's channel was last verified (lag).", func(add func(string, float64)) {
		for _, in := range inbound {
			if !in.VerifiedAt.IsZero() {
				add(fmt.Sprintf("channel=%q", in.Channel), now.Sub(in.VerifiedAt).Round(time.Millisecond).Seconds())
			}
		}
	})
	gauge("puente_alerts", "Alerts recorded about a partner (what federation refused), among the latest 100.", func(add func(string, float64)) {
		for _, in := range inbound {
			add(fmt.Sprintf("partner=%q", in.Partner), float64(in.Alerts))
		}
	})
	if r, ok := n.st.(interface{ Retries() int64 }); ok {
		// PostgreSQL: transactions run again after a lost connection or
		// a deadlock. A rising count points at the database or network.
		fmt.Fprintf(&b, "# HELP %[1]s %[2]s\n# TYPE %[1]s counter\n%[1]s %[3]d\n", "puente_database_retries_total",
			"Transactions run again after a transient database failure (lost connection, deadlock), since start.", r.Retries())
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte(b.String()))
}

func hasAnyRole(p auth.Principal, roles ...string) bool {
	for _, r := range p.Roles {
		if slices.Contains(roles, r) {
			return true
		}
	}
	return false
}

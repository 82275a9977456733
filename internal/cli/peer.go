package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/puente-project/puente/internal/federation"
	"github.com/puente-project/puente/internal/node"
	"github.com/puente-project/puente/internal/store"
)

const peerUsage = `Usage:
  puente peer export --dir DIR [--url URL] > mex.peer
  puente peer add --dir DIR --bundle FILE
  puente peer list --dir DIR
  puente peer remove --dir DIR --party CODE

Pin partner parties. A peer bundle holds a party's code, its node's URL,
its certificate authority and its public keys, and no secret: exchange
bundles with your partner by a channel you trust, and check them together
(for example by reading the key hashes over the phone). Run 'puente peer
COMMAND -h' for details.

Example:
  puente peer export --dir ./mex --url https://mex.example:8443/ > mex.peer
  puente peer add --dir ./usa --bundle mex.peer
`

const peerExportUsage = `Usage:
  puente peer export --dir DIR [--url URL]

Print this node's peer bundle (JSON) for a partner to pin.

Flags:
  --dir DIR   node directory (default: $PUENTE_DIR)
  --url URL   where partners reach this node (default: https://LISTEN/)

Example:
  puente peer export --dir ./mex --url https://mex.example:8443/ > mex.peer
`

const peerAddUsage = `Usage:
  puente peer add --dir DIR --bundle FILE

Pin the partner described by a peer bundle: from now on this node trusts,
for that party and only for it, the certificate authority and keys in the
bundle; it pulls what the partner releases to it, verifies it, and
acknowledges it with receipts. Adding a party again replaces its bundle.

Flags:
  --dir DIR       node directory (default: $PUENTE_DIR)
  --bundle FILE   the partner's bundle ('puente peer export' on its node)

Example:
  puente peer add --dir ./usa --bundle mex.peer
`

const peerListUsage = `Usage:
  puente peer list --dir DIR

List the pinned partners.

Example:
  puente peer list --dir ./usa
`

const peerRemoveUsage = `Usage:
  puente peer remove --dir DIR --party CODE

Unpin a partner: this node stops pulling from it and refuses its
certificate. What it already sent stays.

Example:
  puente peer remove --dir ./usa --party MEX
`

func peerCommand() command {
	return command{name: "peer", summary: "pin partner parties (federation)", usage: peerUsage,
		run: subcommands("peer", peerUsage, map[string]func(context.Context, *env, []string) error{
			"export": runPeerExport,
			"add":    runPeerAdd,
			"list":   runPeerList,
			"remove": runPeerRemove,
		})}
}

func runPeerExport(ctx context.Context, e *env, args []string) error {
	const cmd = "peer export"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	urlFlag := fs.String("url", "", "")
	if help, err := parseCommand(e, fs, args, cmd, peerExportUsage); help || err != nil {
		return err
	}
	cfg, err := e.nodeConfig(cmd, *dirFlag)
	if err != nil {
		return err
	}
	u := *urlFlag
	if u == "" {
		u = "https://" + cfg.Listen + "/"
	}
	b, err := node.PeerBundle(cfg, u)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(b)
}

func runPeerAdd(ctx context.Context, e *env, args []string) error {
	const cmd = "peer add"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	bundle := fs.String("bundle", "", "")
	if help, err := parseCommand(e, fs, args, cmd, peerAddUsage); help || err != nil {
		return err
	}
	if *bundle == "" {
		return usageError(cmd, "--bundle is required")
	}
	raw, err := os.ReadFile(*bundle)
	if err != nil {
		return err
	}
	b, err := federation.ParseBundle(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", *bundle, err)
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		if b.Party == cfg.Party {
			return fmt.Errorf("%s is this node's own party", b.Party)
		}
		p := b.Peer()
		p.Added = time.Now()
		if err := st.PutPeer(ctx, p); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Pinned %s at %s.\n", b.Party, b.URL)
		return nil
	})
}

func runPeerList(ctx context.Context, e *env, args []string) error {
	const cmd = "peer list"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	if help, err := parseCommand(e, fs, args, cmd, peerListUsage); help || err != nil {
		return err
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		ps, err := st.Peers(ctx)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			fmt.Fprintln(e.stdout, "No partner is pinned.")
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PARTY\tURL\tPINNED")
		for _, p := range ps {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Party, p.URL, p.Added.UTC().Format("2006-01-02 15:04 UTC"))
		}
		return tw.Flush()
	})
}

func runPeerRemove(ctx context.Context, e *env, args []string) error {
	const cmd = "peer remove"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	party := fs.String("party", "", "")
	if help, err := parseCommand(e, fs, args, cmd, peerRemoveUsage); help || err != nil {
		return err
	}
	if *party == "" {
		return usageError(cmd, "--party is required")
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		err := st.DeletePeer(ctx, *party)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s is not pinned", *party)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Unpinned %s.\n", *party)
		return nil
	})
}

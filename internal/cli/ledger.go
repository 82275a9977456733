package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/node"
	"github.com/puente-project/puente/internal/store"
)

const statusUsage = `Usage:
  puente status --dir DIR [--json]

Show the node's delivery state. For each partner pinned: how much of its
channel to this node was verified, the last receipt sent back, entries
whose object it did not serve, and alerts (what federation refused, with
the evidence kept). For each of this node's logs (what this party released
to one partner, and the internal log): its size, its last signed
checkpoint, the last receipt from the partner, and how many entries no
receipt covers yet. A receipt is the partner's signed statement that it
holds and verified every entry up to that size.

Flags:
  --dir DIR   node directory (default: $PUENTE_DIR)
  --json      print one JSON document {"channels": [...], "inbound": [...],
              "alerts": [...]}, for scripts and monitoring

Examples:
  puente status --dir ./mex
  puente status --dir ./mex --json | jq '.channels[] | select(.unacknowledged > 0)'
`

func statusCommand() command {
	return command{name: "status", summary: "show what was released, verified and acknowledged, and alerts", usage: statusUsage, run: runStatus}
}

func runStatus(ctx context.Context, e *env, args []string) error {
	const cmd = "status"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	asJSON := fs.Bool("json", false, "")
	if help, err := parseCommand(e, fs, args, cmd, statusUsage); help || err != nil {
		return err
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		sts, err := node.LedgerStatus(ctx, st, cfg.Party)
		if err != nil {
			return fmt.Errorf("read the logs: %w", err)
		}
		inbound, alerts, err := node.FederationStatus(ctx, st, cfg.Party, time.Now())
		if err != nil {
			return fmt.Errorf("read the federation state: %w", err)
		}
		if *asJSON {
			type alert struct {
				Time    time.Time `json:"time"`
				Partner string    `json:"partner"`
				Kind    string    `json:"kind"`
				Message string    `json:"message"`
			}
			doc := struct {
				Party    string               `json:"party"`
				Channels []node.ChannelStatus `json:"channels"`
				Inbound  []node.InboundStatus `json:"inbound"`
				Alerts   []alert              `json:"alerts"`
			}{cfg.Party, append([]node.ChannelStatus{}, sts...), append([]node.InboundStatus{}, inbound...), []alert{}}
			for _, a := range alerts {
				doc.Alerts = append(doc.Alerts, alert{a.Time, a.Party, a.Kind, a.Message})
			}
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(doc)
		}
		if len(inbound) > 0 {
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "FROM PARTNER\tVERIFIED\tRECEIPT SENT\tUNAVAILABLE\tALERTS")
			for _, in := range inbound {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", in.Channel, sizeAt(in.Verified, in.VerifiedAt), in.ReceiptSize, in.Unavailable, in.Alerts)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout)
		}
		for i, a := range alerts {
			if i == 5 {
				fmt.Fprintf(e.stdout, "... %d more alerts ('puente status --json' lists them)\n", len(alerts)-5)
				break
			}
			fmt.Fprintf(e.stdout, "ALERT %s %s %s: %s\n", a.Time.UTC().Format(time.RFC3339), a.Party, a.Kind, a.Message)
		}
		if len(sts) == 0 {
			fmt.Fprintln(e.stdout, "No log has entries yet: nothing was shared.")
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CHANNEL\tSIZE\tCHECKPOINT\tRECEIPT\tUNACKNOWLEDGED")
		for _, s := range sts {
			receipt, unack := "-", "-"
			if s.Partner != "" {
				receipt = sizeAt(s.ReceiptSize, s.ReceiptTime)
				unack = fmt.Sprint(s.Unacknowledged)
				if s.Unacknowledged > 0 {
					unack += " (oldest " + s.OldestUnacknowledged.UTC().Format(time.RFC3339) + ")"
				}
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", s.Channel, s.Size, sizeAt(s.CheckpointSize, s.CheckpointTime), receipt, unack)
		}
		return tw.Flush()
	})
}

func sizeAt(size int64, t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return fmt.Sprintf("%d at %s", size, t.UTC().Format(time.RFC3339))
}

const ledgerUsage = `Usage:
  puente ledger checkpoint --dir DIR
  puente ledger rotate-key --dir DIR
  puente ledger export --dir DIR --channel CHANNEL --out OUTDIR
  puente ledger prove --dir DIR --channel CHANNEL --object ID --version V

Work with the node's transparency logs. Run 'puente ledger COMMAND -h'
for details. Channels are named PARTY-PARTNER (MEX-USA) or
PARTY-internal; 'puente status' lists them.

Examples:
  puente ledger export --dir ./mex --channel MEX-USA --out ./mex-usa-log
  puente verify --key ./mex/signing.pub --tiles ./mex-usa-log
`

const ledgerCheckpointUsage = `Usage:
  puente ledger checkpoint --dir DIR

Sign a checkpoint now for every log that grew since its last one. A
running node does this every second; this command is for nodes that are
not running.

Example:
  puente ledger checkpoint --dir ./mex
`

const ledgerRotateUsage = `Usage:
  puente ledger rotate-key --dir DIR

Replace the party's checkpoint-signing key with a new one. The old public
key is kept in DIR/signing-retired/, so that checkpoints and receipts it
signed stay verifiable; the old private key is destroyed. Give the new
public key (DIR/signing.pub) to your partners and auditors, and restart the
node: until then it signs with the old key.

Example:
  puente ledger rotate-key --dir ./mex
`

const ledgerExportUsage = `Usage:
  puente ledger export --dir DIR --channel CHANNEL --out OUTDIR

Write one log, as of a checkpoint signed now, to OUTDIR in the C2SP
tlog-tiles layout (OUTDIR/checkpoint, OUTDIR/tile/...), for an auditor to
verify offline with 'puente verify'. OUTDIR must be empty or absent.

Flags:
  --dir DIR           node directory (default: $PUENTE_DIR)
  --channel CHANNEL   the log: MEX-USA, MEX-internal, ...
  --out OUTDIR        where to write

Example:
  puente ledger export --dir ./mex --channel MEX-USA --out ./mex-usa-log
`

const ledgerProveUsage = `Usage:
  puente ledger prove --dir DIR --channel CHANNEL --object ID --version V

Print a proof bundle (JSON) showing that one object version is in a log:
the signed checkpoint, the entry and its inclusion proof. Anyone with the
party's public key can check it offline, with the object's bytes, using
'puente verify --proof'.

Flags:
  --dir DIR           node directory (default: $PUENTE_DIR)
  --channel CHANNEL   the log: MEX-USA, MEX-internal, ...
  --object ID         STIX id of the object
  --version V         its version (modified timestamp), as TAXII shows it

Example:
  puente ledger prove --dir ./mex --channel MEX-USA \
      --object indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f \
      --version 2026-01-02T03:04:05.000Z > proof.json
`

func ledgerCommand() command {
	return command{name: "ledger", summary: "sign, export and prove from the transparency logs", usage: ledgerUsage,
		run: subcommands("ledger", ledgerUsage, map[string]func(context.Context, *env, []string) error{
			"checkpoint": runLedgerCheckpoint,
			"rotate-key": runLedgerRotate,
			"export":     runLedgerExport,
			"prove":      runLedgerProve,
		})}
}

// withSignedLogs opens the node's database, signs checkpoints of the
// logs that grew, and runs fn.
func (e *env) withSignedLogs(ctx context.Context, cmd, dirFlag string, fn func(st store.Store, cfg node.Config, made []store.StoredCheckpoint) error) error {
	return e.withStore(ctx, cmd, dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		signer, _, err := node.LoadSigner(cfg)
		if err != nil {
			return err
		}
		made, err := node.PublishCheckpoints(ctx, st, cfg.Party, signer, time.Now())
		if err != nil {
			return fmt.Errorf("sign checkpoints: %w", err)
		}
		return fn(st, cfg, made)
	})
}

func runLedgerCheckpoint(ctx context.Context, e *env, args []string) error {
	const cmd = "ledger checkpoint"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	if help, err := parseCommand(e, fs, args, cmd, ledgerCheckpointUsage); help || err != nil {
		return err
	}
	return e.withSignedLogs(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, made []store.StoredCheckpoint) error {
		if len(made) == 0 {
			fmt.Fprintln(e.stdout, "Every log already has a checkpoint at its current size.")
		}
		for _, c := range made {
			fmt.Fprintf(e.stdout, "Signed a checkpoint of %s at size %d.\n", ledger.ChannelName(cfg.Party, c.Log), c.Size)
		}
		return nil
	})
}

func runLedgerRotate(ctx context.Context, e *env, args []string) error {
	const cmd = "ledger rotate-key"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	if help, err := parseCommand(e, fs, args, cmd, ledgerRotateUsage); help || err != nil {
		return err
	}
	cfg, err := e.nodeConfig(cmd, *dirFlag)
	if err != nil {
		return err
	}
	// Sign what the old key has not signed yet, so that nothing is left
	// for the new key to vouch for retroactively.
	if err := e.withSignedLogs(ctx, cmd, cfg.Dir, func(store.Store, node.Config, []store.StoredCheckpoint) error { return nil }); err != nil {
		return err
	}
	vkey, kept, err := node.RotateSigningKey(cfg, time.Now())
	if err != nil {
		return fmt.Errorf("rotate the signing key: %w", err)
	}
	fmt.Fprintf(e.stdout, "New checkpoint-signing key: %s\n", vkey)
	fmt.Fprintf(e.stdout, "Old public key kept in %s\n", kept)
	fmt.Fprintln(e.stdout, "Restart the node to sign with the new key.")
	return nil
}

// channelLog returns the store's name of a channel of party's node.
func channelLog(cmd, party, channel string) (string, error) {
	log, ok := strings.CutPrefix(channel, party+"-")
	if !ok || log == "" {
		return "", usageError(cmd, "--channel %q: want %s-PARTNER or %s-internal", channel, party, party)
	}
	return log, nil
}

func runLedgerExport(ctx context.Context, e *env, args []string) error {
	const cmd = "ledger export"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	channel := fs.String("channel", "", "")
	out := fs.String("out", "", "")
	if help, err := parseCommand(e, fs, args, cmd, ledgerExportUsage); help || err != nil {
		return err
	}
	if *channel == "" || *out == "" {
		return usageError(cmd, "--channel and --out are required")
	}
	if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty; choose a new directory", *out)
	}
	return e.withSignedLogs(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, _ []store.StoredCheckpoint) error {
		log, err := channelLog(cmd, cfg.Party, *channel)
		if err != nil {
			return err
		}
		cp, err := st.LatestCheckpoint(ctx, log)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("channel %s has no entries", *channel)
		}
		if err != nil {
			return err
		}
		p := e.progress("exported", "entries")
		if err := ledger.Export(ctx, store.LogSource(st, log), cp.Note, cp.Size, *out, p); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Exported %s: %d entries, checkpoint signed at %s, to %s.\n", *channel, cp.Size, cp.Time.UTC().Format(time.RFC3339), *out)
		fmt.Fprintf(e.stdout, "Verify it with: puente verify --key %s --tiles %s\n", quote(cfg.Path(cfg.SigningPub)), quote(*out))
		return nil
	})
}

func runLedgerProve(ctx context.Context, e *env, args []string) error {
	const cmd = "ledger prove"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	channel := fs.String("channel", "", "")
	object := fs.String("object", "", "")
	version := fs.String("version", "", "")
	if help, err := parseCommand(e, fs, args, cmd, ledgerProveUsage); help || err != nil {
		return err
	}
	if *channel == "" || *object == "" || *version == "" {
		return usageError(cmd, "--channel, --object and --version are required")
	}
	return e.withSignedLogs(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, _ []store.StoredCheckpoint) error {
		log, err := channelLog(cmd, cfg.Party, *channel)
		if err != nil {
			return err
		}
		found, err := st.FindEntries(ctx, log, *object, *version)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s version %s is not in %s", *object, *version, *channel)
		}
		if err != nil {
			return err
		}
		cp, err := st.LatestCheckpoint(ctx, log)
		if err != nil {
			return err
		}
		p, err := ledger.InclusionProof(ctx, store.LogSource(st, log), found[0].Index, cp.Size)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ledger.NewProofBundle(cp.Note, found[0].Index, found[0].Data, p))
	})
}

const verifyUsage = `Usage:
  puente verify --key KEYFILE --tiles DIR [--older CHECKPOINT]
  puente verify --key KEYFILE --url URL [--ca CAFILE] [--token TOKEN] [--older CHECKPOINT]
  puente verify --key KEYFILE --proof PROOF [--object OBJECT]
  puente verify --key KEYFILE --receipt RECEIPT --receipt-key KEYFILE

Check, offline or against a node, what a party's transparency log says.
Every check prints one line, OK or FAIL, and the command exits 0 only when
every check holds.

  --tiles, --url   verify a whole log: every entry is read and hashed,
                   every hash tile rebuilt, and the root must match the
                   signed checkpoint (DIR/checkpoint, or URL/checkpoint).
  --older          and check that the log extends an older checkpoint you
                   kept (same log, not rewritten, not forked).
  --proof          check an inclusion proof bundle ('puente ledger prove');
  --object         with the object's JSON: its content must match the entry.
  --receipt        check a receipt: a checkpoint co-signed by the partner.

Flags:
  --key KEYFILE          the log's public key (the party's signing.pub); give
                         it again for each retired key (signing-retired/*.pub)
  --tiles DIR            a log exported with 'puente ledger export'
  --url URL              a log served by a node: https://HOST:PORT/ledger/MEX-USA/
  --ca CAFILE            CA certificate to trust for --url (the node's ca.pem)
  --token TOKEN          API token for --url (default: $PUENTE_TOKEN)
  --older CHECKPOINT     file with an older signed checkpoint of the same log
  --proof PROOF          proof bundle file
  --object OBJECT        file with the STIX object the proof is about
  --receipt RECEIPT      file with a co-signed checkpoint
  --receipt-key KEYFILE  the partner's receipt public key (its receipt.pub)

Examples:
  puente verify --key ./mex/signing.pub --tiles ./mex-usa-log
  puente verify --key mex-signing.pub --url https://mex.example:8443/ledger/MEX-USA/ --ca mex-ca.pem --older old-checkpoint
  puente verify --key ./mex/signing.pub --proof proof.json --object indicator.json
`

func verifyCommand() command {
	return command{name: "verify", summary: "verify a log, a proof or a receipt, offline", usage: verifyUsage, run: runVerify}
}

func runVerify(ctx context.Context, e *env, args []string) error {
	const cmd = "verify"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	var keyFiles stringList
	fs.Var(&keyFiles, "key", "")
	tiles := fs.String("tiles", "", "")
	urlFlag := fs.String("url", "", "")
	caFile := fs.String("ca", "", "")
	token := fs.String("token", "", "")
	older := fs.String("older", "", "")
	proofFile := fs.String("proof", "", "")
	objectFile := fs.String("object", "", "")
	receiptFile := fs.String("receipt", "", "")
	receiptKey := fs.String("receipt-key", "", "")
	if help, err := parseCommand(e, fs, args, cmd, verifyUsage); help || err != nil {
		return err
	}
	if len(keyFiles) == 0 {
		return usageError(cmd, "--key is required: the log's public key")
	}
	modes := 0
	for _, s := range []string{*tiles, *urlFlag, *proofFile, *receiptFile} {
		if s != "" {
			modes++
		}
	}
	if modes != 1 {
		return usageError(cmd, "give exactly one of --tiles, --url, --proof, --receipt")
	}
	var keys []note.Verifier
	for _, f := range keyFiles {
		vkey, err := readOneLine(f)
		if err != nil {
			return err
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return fmt.Errorf("%s: not a signed-note public key: %w", f, err)
		}
		keys = append(keys, v)
	}

	v := &verdicts{w: e.stdout}
	switch {
	case *proofFile != "":
		b, err := os.ReadFile(*proofFile)
		if err != nil {
			return err
		}
		var obj []byte
		if *objectFile != "" {
			if obj, err = os.ReadFile(*objectFile); err != nil {
				return err
			}
		}
		pb, err := ledger.ParseProofBundle(b)
		if err != nil {
			v.fail("proof %s: %v", *proofFile, err)
			break
		}
		origin := originOf([]byte(pb.Checkpoint))
		var en ledger.Entry
		var cp ledger.Checkpoint
		err = withKeys(keys, func(v note.Verifier) (err error) {
			en, cp, err = pb.Verify(origin, v, obj)
			return err
		})
		if err != nil {
			v.fail("proof %s: %v", *proofFile, err)
			break
		}
		v.ok("entry %d of %s (size %d) is a %s of %s version %s", pb.Index, cp.Origin, cp.Size, en.Kind, en.ObjectID, en.Version)
		if obj != nil {
			v.ok("the object in %s matches the entry (SHA-256 of its canonical JSON)", *objectFile)
		}
	case *receiptFile != "":
		if *receiptKey == "" {
			return usageError(cmd, "--receipt needs --receipt-key: the partner's receipt public key")
		}
		b, err := os.ReadFile(*receiptFile)
		if err != nil {
			return err
		}
		rk, err := readOneLine(*receiptKey)
		if err != nil {
			return err
		}
		cv, err := ledger.NewCosignatureVerifier(rk)
		if err != nil {
			return fmt.Errorf("%s: %w", *receiptKey, err)
		}
		var r ledger.Receipt
		err = withKeys(keys, func(v note.Verifier) (err error) {
			r, err = ledger.OpenReceipt(b, originOf(b), v, cv)
			return err
		})
		if err != nil {
			v.fail("receipt %s: %v", *receiptFile, err)
			break
		}
		v.ok("receipt: %s acknowledged all %d entries of %s on %s", cv.Name(), r.Checkpoint.Size, r.Checkpoint.Origin, r.Time.Format(time.RFC3339))
	default:
		f, err := e.fetcher(*tiles, *urlFlag, *caFile, *token)
		if err != nil {
			return err
		}
		msg, err := f.Fetch(ctx, "checkpoint")
		if err != nil {
			v.fail("checkpoint: %v", err)
			break
		}
		var cp ledger.Checkpoint
		var signer note.Verifier
		err = withKeys(keys, func(k note.Verifier) (err error) {
			cp, _, err = ledger.OpenCheckpoint(msg, originOf(msg), k)
			signer = k
			return err
		})
		if err != nil {
			v.fail("checkpoint: %v", err)
			break
		}
		v.ok("checkpoint of %s at size %d is signed by %s (key %08x)", cp.Origin, cp.Size, signer.Name(), signer.KeyHash())
		check := ledger.LogCheck{Fetch: f, Checkpoint: cp, Progress: e.progress("verified", "entries")}
		if *older != "" {
			ob, err := os.ReadFile(*older)
			if err != nil {
				return err
			}
			var ocp ledger.Checkpoint
			err = withKeys(keys, func(k note.Verifier) (err error) {
				ocp, _, err = ledger.OpenCheckpoint(ob, cp.Origin, k)
				return err
			})
			if err != nil {
				v.fail("older checkpoint %s: %v", *older, err)
				break
			}
			check.Older = &ocp
		}
		start := time.Now()
		if err := ledger.VerifyLog(ctx, check); err != nil {
			v.fail("log %s: %v", cp.Origin, err)
			break
		}
		v.ok("log %s: all %d entries verified, root matches the checkpoint (%s)", cp.Origin, cp.Size, time.Since(start).Round(time.Millisecond))
		if check.Older != nil {
			v.ok("log %s extends the older checkpoint at size %d: no entry altered or removed", cp.Origin, check.Older.Size)
		}
	}
	if v.failed {
		return &cliError{code: exitFailure, err: errors.New("verification failed")}
	}
	return nil
}

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// withKeys runs check with each of keys (a party's current and retired
// signing keys) until one succeeds. When none does, it returns the error
// of the first check that got past the signature, if any: that one says
// what is wrong.
func withKeys(keys []note.Verifier, check func(note.Verifier) error) error {
	var first, real error
	for _, k := range keys {
		err := check(k)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
		if real == nil && !errors.Is(err, ledger.ErrBadSignature) {
			real = err
		}
	}
	if real != nil {
		return real
	}
	return first
}

// originOf returns the first line of a signed note: the checkpoint's
// origin. The signature check binds it; this only picks which log the
// note claims to be of.
func originOf(msg []byte) string {
	o, _, _ := strings.Cut(string(msg), "\n")
	return o
}

type verdicts struct {
	w      io.Writer
	failed bool
}

func (v *verdicts) ok(format string, args ...any) {
	fmt.Fprintf(v.w, "OK    "+format+"\n", args...)
}

func (v *verdicts) fail(format string, args ...any) {
	v.failed = true
	fmt.Fprintf(v.w, "FAIL  "+format+"\n", args...)
}

// fetcher returns the fetcher for --tiles or --url.
func (e *env) fetcher(dir, url, caFile, token string) (ledger.Fetcher, error) {
	if dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, err
		}
		return ledger.DirFetcher(dir), nil
	}
	if !strings.HasPrefix(url, "https://") {
		return nil, usageError("verify", "--url must be an https:// URL")
	}
	tcfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate found", caFile)
		}
		tcfg.RootCAs = pool
	}
	if token == "" {
		token = e.getenv("PUENTE_TOKEN")
	}
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: tcfg}}
	return ledger.HTTPFetcher{Client: c, Prefix: url, Authorize: func(r *http.Request) {
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
	}}, nil
}

func readOneLine(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// progress returns a progress reporter for long work, on standard error:
// a bar redrawn in place on a terminal, a line every tenth otherwise.
func (e *env) progress(verb, unit string) func(done, total int64) {
	tty := false
	if f, ok := e.stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	lastTenth := int64(-1)
	return func(done, total int64) {
		if total <= 0 {
			return
		}
		if tty {
			const width = 30
			n := int(done * width / total)
			fmt.Fprintf(e.stderr, "\r[%s%s] %s %d/%d %s", strings.Repeat("#", n), strings.Repeat(" ", width-n), verb, done, total, unit)
			if done == total {
				fmt.Fprintln(e.stderr)
			}
			return
		}
		if tenth := done * 10 / total; tenth != lastTenth && total >= 10_000 {
			lastTenth = tenth
			fmt.Fprintf(e.stderr, "puente: %s %d of %d %s (%d%%)\n", verb, done, total, unit, tenth*10)
		}
	}
}

package node

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// RetiredKeysDir is the directory, inside a node directory, that keeps the
// public keys of retired checkpoint-signing keys: checkpoints and receipts
// signed with them stay verifiable after a rotation.
const RetiredKeysDir = "signing-retired"

// RotateSigningKey replaces the checkpoint-signing key of the node whose
// configuration is cfg with a new one of the same name, and keeps the old
// public key in RetiredKeysDir. The old private key is destroyed. It
// returns the new public key and the file that keeps the old one. A
// running node keeps signing with the old
// key until it is restarted.
func RotateSigningKey(cfg Config, now time.Time) (vkey, retiredFile string, err error) {
	oldPub, err := readKeyFile(cfg.Path(cfg.SigningPub))
	if err != nil {
		return "", "", err
	}
	old, err := note.NewVerifier(oldPub)
	if err != nil {
		return "", "", fmt.Errorf("signing public key: %w", err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, old.Name())
	if err != nil {
		return "", "", fmt.Errorf("generate signing key: %w", err)
	}
	retired := cfg.Path(RetiredKeysDir)
	if err := os.MkdirAll(retired, 0o755); err != nil {
		return "", "", err
	}
	keep := filepath.Join(retired, fmt.Sprintf("%s-%08x.pub", now.UTC().Format("20060102T150405Z"), old.KeyHash()))
	if err := writeFile(keep, []byte(oldPub+"\n"), 0o644); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", "", err
	}
	if err := syncDir(retired); err != nil {
		return "", "", err
	}
	// New files beside the old, then renamed over them: a crash leaves
	// either pair whole (the retired copy keeps the old public key).
	for _, f := range []struct {
		name, data string
		perm       fs.FileMode
	}{{cfg.SigningKey, skey, 0o600}, {cfg.SigningPub, vkey, 0o644}} {
		path := cfg.Path(f.name)
		tmp := path + ".new"
		os.Remove(tmp)
		if err := writeFile(tmp, []byte(f.data+"\n"), f.perm); err != nil {
			return "", "", err
		}
		if err := os.Rename(tmp, path); err != nil {
			return "", "", fmt.Errorf("replace %s: %w", path, err)
		}
	}
	if err := syncDir(filepath.Dir(cfg.Path(cfg.SigningPub))); err != nil {
		return "", "", err
	}
	return vkey, keep, nil
}

// RetiredKeys returns the verifiers of the node's retired signing keys,
// oldest first.
func RetiredKeys(cfg Config) ([]note.Verifier, error) {
	dir := cfg.Path(RetiredKeysDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".pub") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []note.Verifier
	for _, n := range names {
		vkey, err := readKeyFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return nil, fmt.Errorf("retired key %s: %w", n, err)
		}
		out = append(out, v)
	}
	return out, nil
}

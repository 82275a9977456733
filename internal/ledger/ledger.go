// Package ledger keeps the transparency logs of a node (guarantees G3, G4
// and G7 of DESIGN.md): one append-only RFC 6962 Merkle log per channel
// (everything this party released to one partner) and one internal log of
// everything the node stores.
//
// An entry ([Entry]) is a small canonical record about an object version
// (or its withdrawal): its id, version, the SHA-256 of its canonical
// bytes, the working group and the time. The content travels over TAXII;
// the log carries the proof, so content can be withdrawn without breaking
// the log.
//
// Logs are stored as [tlog-tiles] hash tiles ([AppendTiles] computes the
// tiles an append changes, so that a store writes them in the same
// transaction as the entries), signed with [tlog-checkpoint] checkpoints
// in the [signed note] format, and acknowledged by partners with
// [tlog-cosignature] receipts ([Cosigner], [OpenReceipt]). [VerifyLog]
// checks a whole log from its tiles, offline; [ProofBundle] proves one
// entry. Merkle hashing and proofs are those of
// golang.org/x/mod/sumdb/tlog.
//
// [tlog-tiles]: https://c2sp.org/tlog-tiles
// [tlog-checkpoint]: https://c2sp.org/tlog-checkpoint
// [signed note]: https://c2sp.org/signed-note
// [tlog-cosignature]: https://c2sp.org/tlog-cosignature
package ledger

// ChannelName names a log of party's node for people and URLs: "MEX-USA"
// for the channel from MEX to USA, "MEX-internal" for MEX's internal log.
// log is the store's name of the log: a partner's code or "internal".
func ChannelName(party, log string) string { return party + "-" + log }

// Origin is the checkpoint origin of a log of party's node:
// "puente/MEX-USA".
func Origin(party, log string) string { return "puente/" + ChannelName(party, log) }

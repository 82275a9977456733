// Package store defines the contract between Puente's domain packages and the
// database that is the node's single source of truth: collections, object
// versions, TAXII status resources, users and API tokens.
//
// Two drivers implement it: [github.com/puente-project/puente/internal/store/sqlite]
// (the embedded default) and [github.com/puente-project/puente/internal/store/postgres]
// (several processes on one database). Both pass the conformance suite in
// [github.com/puente-project/puente/internal/store/storetest].
//
// The contract is shaped by what the TAXII server and the ledger need, not by
// SQL: "add these objects durably and tell me what each became", "read a page
// in date_added order". Every method that returns without error has made its
// effect durable.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/puente-project/puente/internal/ledger"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrNotFound means the thing asked for does not exist. Callers that
	// answer partners or users must not say more than "not found".
	ErrNotFound = errors.New("not found")
	// ErrExists means a create was refused because the id or name is taken.
	ErrExists = errors.New("already exists")
	// ErrReplica means a change to a replica collection, which only
	// federation writes (G2, G6).
	ErrReplica = errors.New("a replica of a partner's group: only federation changes it")
	// ErrConflict means a write does not continue the state it was
	// computed from (another writer moved it first).
	ErrConflict = errors.New("conflict")
	// ErrSchemaTooNew means the database was written by a newer Puente; the
	// operator must upgrade the binary, never downgrade the database.
	ErrSchemaTooNew = errors.New("database schema is newer than this program")
)

// Store is the node's database. Implementations are safe for concurrent use.
// Times are kept with microsecond precision.
type Store interface {
	// CreateCollection stores a new collection. It returns ErrExists when the
	// id or the alias is already used as the id or alias of a collection,
	// so that Collection(idOrAlias) is never ambiguous.
	CreateCollection(ctx context.Context, c Collection) error
	// SetMembers replaces the member parties of a collection;
	// ErrNotFound when there is no such collection. For each party that
	// joins, it releases to that party, in the same transaction, every
	// version of the collection its Release now releases to it and that
	// was never released to it before, oldest first: each is recorded on
	// the party's channel log and given a date_added of that party's (see
	// AddObjects). A replica collection's members cannot be set
	// (ErrReplica).
	SetMembers(ctx context.Context, idOrAlias string, members []string) error
	// SetArchived archives or reopens a collection; ErrNotFound when there
	// is no such collection.
	SetArchived(ctx context.Context, idOrAlias string, archived bool) error
	// Collections returns every collection, ordered by creation time.
	Collections(ctx context.Context) ([]Collection, error)
	// Collection returns the collection whose id or alias is idOrAlias.
	Collection(ctx context.Context, idOrAlias string) (Collection, error)

	// AddObjects stores objects in the collection in one transaction and
	// returns one result per input, in input order. Each added version gets a
	// date_added that is unique and strictly greater than every date_added
	// already given in that collection (microsecond precision; ties are bumped
	// by one microsecond). An object whose (id, version) is already stored with
	// the same hash is a Duplicate (nothing written); with another hash it is a
	// Conflict (nothing written).
	//
	// Marking definitions are immutable across the node: when objs holds
	// a marking-definition whose id is already defined, in any of the
	// node's own collections or earlier in objs, with other content, the
	// call fails with an error wrapping ErrConflict and writes nothing
	// (the caller judged the other objects against a definition that is
	// not the node's; it must judge them again). A replica collection is
	// not checked.
	//
	// Each added version is recorded, in the same transaction, on the
	// internal log and released to the members of the collection (as they
	// are at that moment), other than its originator, that its Release
	// releases it to now; never for a replica collection. Each party it is
	// released to gets it on its channel log and sees it with a date_added
	// of its own: unique and strictly increasing per collection and party,
	// the time of the add or one microsecond after the party's last, so
	// that the gaps between the versions a partner sees say nothing of the
	// versions withheld from it (G1). The channel entry's time is that
	// date_added.
	//
	// When err is non-nil nothing was written,
	// with one exception: when a database server's connection is lost
	// during the commit itself, the outcome is unknown; adding the same
	// objects again then reports what was stored as Duplicate.
	// Returns ErrNotFound when the collection does not exist.
	AddObjects(ctx context.Context, collectionID string, objs []NewObject) ([]AddResult, error)
	// Objects returns the page of object versions that q selects, in
	// ascending date_added order. Returns ErrNotFound when the collection does
	// not exist; an empty page is not an error.
	Objects(ctx context.Context, q Query) (Page, error)
	// DeleteObject removes the versions of one object that m and specVersions
	// select (nil specVersions means every spec version). It returns the
	// number removed, or ErrNotFound when none matched.
	DeleteObject(ctx context.Context, collectionID, objectID string, m VersionMatch, specVersions []string) (int, error)

	// PutStatus stores a status resource (insert or replace by ID).
	PutStatus(ctx context.Context, s Status) error
	// Status returns the status resource with that id.
	Status(ctx context.Context, id string) (Status, error)
	// PruneStatuses deletes status resources created before cutoff and
	// returns how many it deleted.
	PruneStatuses(ctx context.Context, cutoff time.Time) (int, error)

	// CreateUser stores a new user; ErrExists when the name is taken.
	CreateUser(ctx context.Context, u User) error
	// User returns the user with that name.
	User(ctx context.Context, name string) (User, error)
	// Users returns every user, ordered by name.
	Users(ctx context.Context) ([]User, error)
	// SetUserDisabled disables or enables a user; ErrNotFound when there is
	// no such user. A disabled user's passwords and tokens stop working at
	// once.
	SetUserDisabled(ctx context.Context, name string, disabled bool) error
	// CreateToken stores a new API token (only its hash). It returns
	// ErrExists when the id or the hash is already stored.
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token whose SHA-256 hash is h.
	TokenByHash(ctx context.Context, h [32]byte) (Token, error)
	// Tokens returns the tokens of a user (all users when user is ""),
	// ordered by creation time.
	Tokens(ctx context.Context, user string) ([]Token, error)
	// RevokeToken revokes the token with that id for good; ErrNotFound when
	// there is none. Revoking a revoked token is not an error.
	RevokeToken(ctx context.Context, id string) error

	// RecordDenials appends refused attempts to the denial record.
	RecordDenials(ctx context.Context, ds []Denial) error
	// Denials returns the newest refused attempts, newest first, at most
	// limit of them.
	Denials(ctx context.Context, limit int) ([]Denial, error)

	// Logs returns every ledger log with entries, with its size.
	Logs(ctx context.Context) ([]Log, error)
	// LogSize returns the number of entries of log (0 when it has none).
	LogSize(ctx context.Context, log string) (int64, error)
	// ReadTile returns the stored hashes of one tile of log: the full tile,
	// or the latest partial one (ledger.TileReader); an error wrapping
	// ledger.ErrMissing when there is none.
	ReadTile(ctx context.Context, log string, id ledger.TileID) ([]byte, error)
	// LogEntries returns the n entries of log from index start on.
	LogEntries(ctx context.Context, log string, start int64, n int) ([][]byte, error)
	// FindEntries returns the entries of log about one object version,
	// oldest first; ErrNotFound when there are none.
	FindEntries(ctx context.Context, log, objectID, version string) ([]LogEntry, error)
	// PutCheckpoint records a signed checkpoint of a log, one per size.
	PutCheckpoint(ctx context.Context, c StoredCheckpoint) error
	// LatestCheckpoint returns the checkpoint of log with the largest
	// size; ErrNotFound when there is none.
	LatestCheckpoint(ctx context.Context, log string) (StoredCheckpoint, error)
	// Checkpoint returns the checkpoint of log at size; ErrNotFound when
	// none was made at that size.
	Checkpoint(ctx context.Context, log string, size int64) (StoredCheckpoint, error)
	// PutReceipt records a partner's verified receipt for a checkpoint.
	PutReceipt(ctx context.Context, r StoredReceipt) error
	// LatestReceipt returns the receipt of log with the largest size;
	// ErrNotFound when there is none.
	LatestReceipt(ctx context.Context, log string) (StoredReceipt, error)

	// PutPeer pins a partner party, or replaces its pinned keys.
	PutPeer(ctx context.Context, p Peer) error
	// Peer returns the pinned partner party; ErrNotFound when it is not.
	Peer(ctx context.Context, party string) (Peer, error)
	// Peers returns the pinned partners, by party code.
	Peers(ctx context.Context) ([]Peer, error)
	// DeletePeer unpins a partner; ErrNotFound when it is not pinned.
	// What it sent stays.
	DeletePeer(ctx context.Context, party string) error

	// Inbound returns what this node verified of party's channel to it;
	// the zero Inbound (Size 0) when nothing yet.
	Inbound(ctx context.Context, party string) (Inbound, error)
	// ApplyPull stores, in one transaction, the replicas and withdrawals
	// of one verified pull and the new inbound state: all or nothing. It
	// returns the replicas that conflict with a version already held
	// (same id and version, other content; the held one stays), for the
	// caller to report.
	ApplyPull(ctx context.Context, p Pull) (conflicts []AddResult, err error)
	// SetReceiptPosted records the size of the last receipt posted to
	// party.
	SetReceiptPosted(ctx context.Context, party string, size int64) error
	// PutAlert records an alert; Alerts returns the newest first, at
	// most limit (positive) of them.
	PutAlert(ctx context.Context, a Alert) error
	Alerts(ctx context.Context, limit int) ([]Alert, error)

	// Lease takes, renews or refuses the lease name for holder: it
	// reports whether holder holds it for ttl from now. A lease held by
	// another holder is refused until it expires. Processes sharing one
	// database use it so that a node-wide periodic job, signing
	// checkpoints, runs in one of them at a time. The store's clock
	// decides (the database server's, when there is one).
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)

	// Close releases the database. In-flight calls may fail afterwards.
	Close() error
}

// Collection is a TAXII collection. On a node every working group is one,
// and so is the party-internal collection.
type Collection struct {
	ID          string // a UUID (RFC 9562), lower case
	Alias       string // optional; unique among collections when set
	Title       string
	Description string
	// Internal marks the party-internal collection, whose content never
	// crosses a border.
	Internal bool
	Created  time.Time
	// Members are the party codes of the working group's members.
	Members []string
	// DefaultMarking is the marking-definition id applied to objects
	// posted without markings ("" means TLP:AMBER).
	DefaultMarking string
	// Archived marks a closed working group: read-only for everyone, its
	// content kept.
	Archived bool
	// Agencies, when set, are the agencies of the node's party whose
	// users may write to the group; empty means every agency.
	Agencies []string
	// Origin is the partner party whose replicas the collection holds,
	// or "" for the node's own groups. A replica collection is read-only
	// and visible to the node's own users only (G2, G6).
	Origin string
}

// NewObject is one STIX object version to add, already validated.
type NewObject struct {
	ID          string // STIX id, type--UUID
	Type        string
	SpecVersion string
	// Version is the object's modified timestamp (else created) exactly as
	// written in the object. Empty for objects that have neither; the store
	// then gives it the time of the add as its version (microseconds, in
	// VersionLayout), later than any version of that object it holds. Not
	// its date_added: every reader sees the same version, and partners
	// have their own date_added.
	Version string
	// VersionKey orders versions by value; see stix.VersionKey. Empty when
	// Version is empty.
	VersionKey string
	Hash       [32]byte // SHA-256 of the object's canonical (RFC 8785) bytes
	Raw        []byte   // the object exactly as received
	// Release says to which parties this version may go; see Release. The
	// zero value releases to nobody but the node's own users.
	Release Release
}

// Release is the stored form of a release decision (marking.ReleaseSet):
// a version is released to party p when p is Originator, or when p is a
// member of the group, Expires is zero or later than now, and AllMembers is
// set or Parties holds p. Membership is checked by the caller; the store
// evaluates the rest inside its query, before Limit, so that pages are
// full and nothing unreleased is ever read out.
type Release struct {
	Originator string
	AllMembers bool
	Parties    []string // party codes, upper case
	Expires    time.Time
}

// Outcome says what AddObjects did with one object.
type Outcome int

const (
	// Added means a new version was stored.
	Added Outcome = iota + 1
	// Duplicate means the identical version was already stored.
	Duplicate
	// Conflict means another object with the same id and version, but other
	// content, is already stored; nothing was written.
	Conflict
)

// AddResult is the fate of one object of an AddObjects call.
type AddResult struct {
	ID        string
	Version   string
	Outcome   Outcome
	DateAdded time.Time // for Added and Duplicate
}

// Object is one stored version of a STIX object.
type Object struct {
	ID          string
	Type        string
	SpecVersion string
	Version     string // byte-identical to the object's modified (or created, or date_added)
	VersionKey  string
	DateAdded   time.Time
	Hash        [32]byte
	Raw         []byte // nil when the query asked for NoContent
}

// VersionMatch selects versions of each object. The zero value selects the
// last (newest) version, the TAXII default.
type VersionMatch struct {
	First bool
	Last  bool
	All   bool
	// Keys are exact versions, as stix.VersionKey values.
	Keys []string
}

// IsZero reports whether m selects nothing explicitly (and so means Last).
func (m VersionMatch) IsZero() bool {
	return !m.First && !m.Last && !m.All && len(m.Keys) == 0
}

// Query selects object versions of one collection. Filters of different
// fields are ANDed; values within one field are ORed. Version selection
// (first/last) is evaluated per object among the versions that match the
// spec version filter, before AddedAfter and Limit are applied.
type Query struct {
	CollectionID string
	// AddedAfter keeps versions whose date_added is strictly later. The zero
	// time means no bound.
	AddedAfter   time.Time
	IDs          []string
	Types        []string
	Versions     VersionMatch
	SpecVersions []string // empty means every spec version held
	// Limit is the largest page; it must be positive.
	Limit int
	// MaxBytes, when positive, also ends the page once the Raw bytes of
	// the objects in it reach MaxBytes (at least one object is returned), so
	// that a page of large objects stays bounded in memory. More is then set
	// when further versions match.
	MaxBytes int
	// NoContent leaves Object.Raw nil (manifests and version lists).
	NoContent bool
	// ReleasedTo, when set, keeps only versions released to this party (a
	// partner reading through federation or TAXII): the versions recorded
	// on its channel (AddObjects, SetMembers) whose Release still
	// releases them to it at time Now (zero: the current time). Their
	// DateAdded is then the party's own (see AddObjects), and AddedAfter
	// compares with it. Empty for the node's own users, who see every
	// version the node holds with the collection's date_added. Version
	// selection (first, last) is among the versions released to the
	// party: a version withheld from it looks exactly absent, so its
	// newest version is the newest released to it.
	ReleasedTo string
	Now        time.Time
}

// Page is one page of query results.
type Page struct {
	Objects []Object
	// More reports that further versions match after the last one returned.
	More bool
}

// Status is a TAXII status resource for one add request.
type Status struct {
	ID               string // a UUID
	Owner            string // the principal that made the request; only it may read the status
	CollectionID     string
	Status           string // "complete" or "pending"
	RequestTimestamp time.Time
	Successes        []StatusDetail
	Failures         []StatusDetail
	Pendings         []StatusDetail
	Created          time.Time
}

// StatusDetail is one item of a status's successes, failures or pendings.
type StatusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// User is a person or tool account of this node.
type User struct {
	Name         string
	PasswordHash string // argon2id PHC string; empty means password login is off
	Roles        []string
	Disabled     bool
	Created      time.Time
	// Agency is the short name of the user's agency ("" for none).
	Agency string
}

// Token is an API token. Only its SHA-256 hash is stored.
type Token struct {
	ID      string // public identifier, safe to show and log
	User    string
	Hash    [32]byte
	Created time.Time
	Revoked bool
}

// Denial is one refused attempt, kept for the party's auditors: who tried
// what, when, and why it was refused. The one refused never sees it.
type Denial struct {
	Time      time.Time
	Principal string // party:name
	Action    string // e.g. "read collection", "add objects", "delete object"
	Target    string // collection and object ids
	Reason    string
}

// InternalLog names the log of everything the node itself stores (its own
// oversight log). Every other log is a channel, named by the partner
// party's code.
const InternalLog = "internal"

// Log is one ledger log and its size.
type Log struct {
	Name string // InternalLog or a partner party code
	Size int64
}

// LogEntry is one entry of a log.
type LogEntry struct {
	Index int64
	Data  []byte // canonical entry bytes (ledger.Entry)
}

// StoredCheckpoint is a signed checkpoint of one log.
type StoredCheckpoint struct {
	Log  string
	Size int64
	Note []byte // the signed note
	Time time.Time
}

// StoredReceipt is a partner's receipt: its co-signature of one of our
// checkpoints, already verified.
type StoredReceipt struct {
	Log      string
	Size     int64
	Note     []byte    // the checkpoint with our signature and the partner's
	Signed   time.Time // the time inside the co-signature
	Received time.Time
}

// LogSource returns one log of s as a ledger.Source.
func LogSource(s Store, log string) ledger.Source { return logSource{s, log} }

type logSource struct {
	s   Store
	log string
}

func (l logSource) ReadTile(ctx context.Context, id ledger.TileID) ([]byte, error) {
	return l.s.ReadTile(ctx, l.log, id)
}

func (l logSource) Entries(ctx context.Context, start int64, n int) ([][]byte, error) {
	return l.s.LogEntries(ctx, l.log, start, n)
}

// Peer is a partner party pinned by this node.
type Peer struct {
	Party         string
	URL           string // its node: https://host:port/
	CA            []byte // PEM: the only certificate authority trusted for it
	CheckpointKey string // verifier key of its checkpoints (signed note)
	ReceiptKey    string // verifier key of its receipts (tlog-cosignature v1)
	Added         time.Time
}

// Inbound is what this node verified of one partner's channel to it.
type Inbound struct {
	Party string
	Size  int64
	Root  [32]byte
	// Checkpoint is the partner's last signed checkpoint verified. Size
	// may be smaller, when a pull stopped part way: in ApplyPull, an
	// empty Checkpoint keeps the one stored.
	Checkpoint  []byte
	Verified    time.Time
	ReceiptSize int64 // the last receipt posted to the partner
	Unavailable int64 // entries whose object the partner did not serve
}

// Pull is one verified pull from a partner, applied at once. It
// continues the inbound state (PrevSize, PrevRoot): ApplyPull refuses it
// when the stored state is another, so that two pulls (two processes)
// can never store two branches of one log.
type Pull struct {
	Party       string
	PrevSize    int64
	PrevRoot    [32]byte
	Collections []ReplicaCollection
	State       Inbound
}

// ReplicaCollection is what one pull brings to the replica of one of the
// partner's working groups.
type ReplicaCollection struct {
	// ID is the replica collection's id on this node, Title its title.
	ID, Title   string
	Objects     []NewObject  // Release.Originator is the partner
	Withdrawals []Withdrawal // versions the partner withdrew
}

// Withdrawal names one withdrawn object version.
type Withdrawal struct {
	ObjectID, VersionKey string
}

// Alert is something federation refused, with its evidence.
type Alert struct {
	Time     time.Time
	Party    string
	Kind     string // "checkpoint", "fork", "tile", "object", "tls", ...
	Message  string
	Evidence []byte
}

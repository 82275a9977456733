package taxii

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/marking"
	"github.com/puente-project/puente/internal/stix"
	"github.com/puente-project/puente/internal/store"
)

// timestampLayout is the TAXII timestamp: UTC with exactly six fractional
// digits (TAXII 2.1 section 2).
const timestampLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timestampLayout) }

type discoveryResource struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots,omitempty"`
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	s.writeJSON(w, r, http.StatusOK, discoveryResource{Title: s.cfg.Title, Description: s.cfg.Description,
		Contact: s.cfg.Contact, Default: apiRootPath, APIRoots: []string{apiRootPath}})
	return nil
}

type apiRootResource struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

func (s *Server) apiRoot(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	s.writeJSON(w, r, http.StatusOK, apiRootResource{Title: s.cfg.Title, Description: s.cfg.Description,
		Versions: []string{mediaTAXII}, MaxContentLength: s.cfg.MaxContentLength})
	return nil
}

type collectionResource struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types"`
}

func (s *Server) collectionResource(p auth.Principal, c store.Collection) collectionResource {
	rt := s.rights(p, c)
	return collectionResource{ID: c.ID, Title: c.Title, Description: c.Description, Alias: c.Alias,
		CanRead: rt.Read, CanWrite: rt.Write, MediaTypes: []string{mediaSTIX}}
}

func (s *Server) collections(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	all, err := s.st.Collections(r.Context())
	if err != nil {
		return fmt.Errorf("list collections: %w", err)
	}
	var out struct {
		Collections []collectionResource `json:"collections,omitempty"`
	}
	for _, c := range all {
		if s.visible(p, c) {
			out.Collections = append(out.Collections, s.collectionResource(p, c))
		}
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// lookup returns the collection named in the path if p may know it exists.
func (s *Server) lookup(ctx context.Context, r *http.Request, p auth.Principal) (store.Collection, Rights, error) {
	c, err := s.st.Collection(ctx, r.PathValue("collection"))
	if errors.Is(err, store.ErrNotFound) {
		return store.Collection{}, Rights{}, errNotFound
	}
	if err != nil {
		return store.Collection{}, Rights{}, fmt.Errorf("look up collection: %w", err)
	}
	rt := s.rights(p, c)
	if !rt.Read && !rt.Write {
		s.denied(p, r.Method+" collection", c.ID, "not a member of the group, or the party-internal collection")
		return store.Collection{}, Rights{}, errNotFound
	}
	return c, rt, nil
}

// denied tells Config.Denied of a refused attempt.
func (s *Server) denied(p auth.Principal, action, target, reason string) {
	if s.cfg.Denied != nil {
		s.cfg.Denied(store.Denial{Time: time.Now(), Principal: owner(p), Action: action, Target: target, Reason: reason})
	}
}

var errNoRead = &Error{Status: http.StatusForbidden, Title: "Forbidden",
	Description: "You may not read this collection."}

// readable returns the collection named in the path if p may read it.
func (s *Server) readable(ctx context.Context, r *http.Request, p auth.Principal) (store.Collection, error) {
	c, rt, err := s.lookup(ctx, r, p)
	if err != nil {
		return c, err
	}
	if !rt.Read {
		s.denied(p, "read collection", c.ID, "no read right")
		return c, errNoRead
	}
	return c, nil
}

// readRequest returns the collection a read request names, if p may read
// it, and the request's filter, parsed with the parameters allowed.
func (s *Server) readRequest(r *http.Request, p auth.Principal, allowed []string) (store.Collection, filter, error) {
	c, err := s.readable(r.Context(), r, p)
	if err != nil {
		return store.Collection{}, filter{}, err
	}
	f, err := parseFilter(r.URL.RawQuery, allowed, s.cfg.MaxPageSize)
	if err != nil {
		return store.Collection{}, filter{}, err
	}
	return c, f, nil
}

func (s *Server) collection(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	c, _, err := s.lookup(r.Context(), r, p)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, s.collectionResource(p, c))
	return nil
}

// page runs a paginated query for one endpoint. It applies the next token,
// if any, after checking that it was issued for this endpoint, collection,
// filter and caller. It returns the page and the next token to send.
func (s *Server) page(ctx context.Context, endpoint string, c store.Collection, p auth.Principal, f filter, q store.Query) (store.Page, string, error) {
	bind := binding(endpoint, c.ID, owner(p), f)
	if f.next != "" {
		pos, err := s.key.open(f.next, bind)
		if err != nil {
			return store.Page{}, "", err
		}
		if pos.After(f.addedAfter) {
			f.addedAfter = pos
		}
	}
	if f.impossible {
		return store.Page{}, "", nil
	}
	q.CollectionID = c.ID
	q.ReleasedTo = s.releasedTo(p)
	q.AddedAfter = f.addedAfter
	q.Limit = f.limit
	if !q.NoContent {
		q.MaxBytes = s.cfg.MaxPageBytes
	}
	if q.IDs == nil {
		q.IDs = f.ids
	}
	q.Types = f.types
	if q.Versions.IsZero() {
		q.Versions = f.versions
	}
	pg, err := s.st.Objects(ctx, q)
	if err != nil {
		return store.Page{}, "", fmt.Errorf("query %s: %w", endpoint, err)
	}
	next := ""
	if pg.More && len(pg.Objects) > 0 {
		next = s.key.seal(pg.Objects[len(pg.Objects)-1].DateAdded, bind)
	}
	return pg, next, nil
}

// setDateAddedHeaders sets X-TAXII-Date-Added-First and -Last for a
// non-empty page (TAXII 2.1 section 3.2).
func setDateAddedHeaders(w http.ResponseWriter, objs []store.Object) {
	if len(objs) == 0 {
		return
	}
	w.Header().Set("X-TAXII-Date-Added-First", formatTime(objs[0].DateAdded))
	w.Header().Set("X-TAXII-Date-Added-Last", formatTime(objs[len(objs)-1].DateAdded))
}

// writeEnvelope writes an envelope of raw objects, byte for byte as stored.
func (s *Server) writeEnvelope(w http.ResponseWriter, pg store.Page, next string) {
	setDateAddedHeaders(w, pg.Objects)
	size := 64
	for _, o := range pg.Objects {
		size += len(o.Raw) + 1
	}
	var b bytes.Buffer
	b.Grow(size)
	b.WriteByte('{')
	sep := ""
	if pg.More {
		b.WriteString(`"more":true`)
		sep = ","
		if next != "" {
			b.WriteString(`,"next":`)
			b.WriteString(strconv.Quote(next))
		}
	}
	if len(pg.Objects) > 0 {
		b.WriteString(sep)
		b.WriteString(`"objects":[`)
		for i, o := range pg.Objects {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(o.Raw)
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

func (s *Server) getObjects(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ctx := r.Context()
	c, f, err := s.readRequest(r, p, listParams)
	if err != nil {
		return err
	}
	pg, next, err := s.page(ctx, "objects", c, p, f, store.Query{})
	if err != nil {
		return err
	}
	s.writeEnvelope(w, pg, next)
	return nil
}

type manifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type"`
}

func (s *Server) manifest(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ctx := r.Context()
	c, f, err := s.readRequest(r, p, listParams)
	if err != nil {
		return err
	}
	pg, next, err := s.page(ctx, "manifest", c, p, f, store.Query{NoContent: true})
	if err != nil {
		return err
	}
	// next is not in the manifest resource of TAXII 2.1 as published, an
	// acknowledged erratum (oasis-tcs/cti-taxii2#110); we send it, and
	// added_after paging works as well.
	var out struct {
		More    bool             `json:"more,omitempty"`
		Next    string           `json:"next,omitempty"`
		Objects []manifestRecord `json:"objects,omitempty"`
	}
	out.More, out.Next = pg.More, next
	for _, o := range pg.Objects {
		out.Objects = append(out.Objects, manifestRecord{ID: o.ID, DateAdded: formatTime(o.DateAdded),
			Version: o.Version, MediaType: mediaSTIX})
	}
	setDateAddedHeaders(w, pg.Objects)
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// objectExists reports whether the collection holds a version of id that
// p may see: an object released to nobody in p's party looks absent.
func (s *Server) objectExists(ctx context.Context, c store.Collection, p auth.Principal, id string) (bool, error) {
	pg, err := s.st.Objects(ctx, store.Query{CollectionID: c.ID, IDs: []string{id},
		Versions: store.VersionMatch{All: true}, Limit: 1, NoContent: true, ReleasedTo: s.releasedTo(p)})
	if err != nil {
		return false, fmt.Errorf("look up object: %w", err)
	}
	return len(pg.Objects) > 0, nil
}

// objectID returns the object id of the path, or errNotFound when it cannot
// be one.
func objectID(r *http.Request) (string, error) {
	id := r.PathValue("object")
	if !validID(id) {
		return "", errNotFound
	}
	return id, nil
}

// emptyOr404 turns an empty answer about one object into 404 when the
// object does not exist at all, so that a deleted or never-added object is
// not found while filters that exclude every version give {}.
func (s *Server) emptyOr404(ctx context.Context, c store.Collection, p auth.Principal, id string, pg store.Page, f filter) error {
	if len(pg.Objects) > 0 || pg.More || f.next != "" || !f.addedAfter.IsZero() {
		return nil
	}
	ok, err := s.objectExists(ctx, c, p, id)
	if err != nil {
		return err
	}
	if !ok {
		if !s.local(p) {
			if held, err := s.objectExists(ctx, c, auth.Principal{Party: s.cfg.Party}, id); err == nil && held {
				s.denied(p, "read object", c.ID+" "+id, "not released to the party")
			}
		}
		return errNotFound
	}
	return nil
}

func (s *Server) getObject(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ctx := r.Context()
	c, f, err := s.readRequest(r, p, objectParams)
	if err != nil {
		return err
	}
	id, err := objectID(r)
	if err != nil {
		return err
	}
	f.ids = []string{id}
	pg, next, err := s.page(ctx, "object", c, p, f, store.Query{})
	if err != nil {
		return err
	}
	if err := s.emptyOr404(ctx, c, p, id, pg, f); err != nil {
		return err
	}
	s.writeEnvelope(w, pg, next)
	return nil
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ctx := r.Context()
	c, f, err := s.readRequest(r, p, versionsParams)
	if err != nil {
		return err
	}
	id, err := objectID(r)
	if err != nil {
		return err
	}
	f.ids = []string{id}
	f.versions = store.VersionMatch{All: true}
	pg, next, err := s.page(ctx, "versions", c, p, f, store.Query{NoContent: true})
	if err != nil {
		return err
	}
	if err := s.emptyOr404(ctx, c, p, id, pg, f); err != nil {
		return err
	}
	var out struct {
		More     bool     `json:"more,omitempty"`
		Next     string   `json:"next,omitempty"`
		Versions []string `json:"versions,omitempty"`
	}
	out.More, out.Next = pg.More, next
	for _, o := range pg.Objects {
		out.Versions = append(out.Versions, o.Version)
	}
	setDateAddedHeaders(w, pg.Objects)
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// deleteObject removes versions of an object (TAXII 2.1 section 5.7). With
// no match[version] every version goes. Rights follow the table of 5.7:
// neither right gives 404, one of the two gives 403.
func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ctx := r.Context()
	c, rt, err := s.lookup(ctx, r, p)
	if err != nil {
		return err
	}
	if !rt.Read || !rt.Write || !rt.Delete {
		s.denied(p, "delete object", c.ID+" "+r.PathValue("object"), "needs read and write access and the liaison or admin role")
		return &Error{Status: http.StatusForbidden, Title: "Forbidden",
			Description: "Deleting needs read and write access to the collection and the liaison or admin role."}
	}
	id, err := objectID(r)
	if err != nil {
		return err
	}
	f, err := parseFilter(r.URL.RawQuery, deleteParams, s.cfg.MaxPageSize)
	if err != nil {
		return err
	}
	if f.impossible {
		return errNotFound
	}
	m := f.versions
	if m.IsZero() {
		m.All = true
	}
	n, err := s.st.DeleteObject(ctx, c.ID, id, m, nil)
	if err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	s.log.InfoContext(ctx, "object deleted", slog.String("collection", c.ID), slog.String("object", id),
		slog.Int("versions", n), slog.String("by", p.Name))
	w.WriteHeader(http.StatusOK)
	return nil
}

// statusResource is the JSON form of a TAXII status (section 4.3.1).
type statusResource struct {
	ID               string               `json:"id"`
	Status           string               `json:"status"`
	RequestTimestamp string               `json:"request_timestamp,omitempty"`
	TotalCount       int                  `json:"total_count"`
	SuccessCount     int                  `json:"success_count"`
	Successes        []store.StatusDetail `json:"successes,omitempty"`
	FailureCount     int                  `json:"failure_count"`
	Failures         []store.StatusDetail `json:"failures,omitempty"`
	PendingCount     int                  `json:"pending_count"`
	Pendings         []store.StatusDetail `json:"pendings,omitempty"`
}

func toStatusResource(st store.Status) statusResource {
	return statusResource{ID: st.ID, Status: st.Status, RequestTimestamp: formatTime(st.RequestTimestamp),
		TotalCount:   len(st.Successes) + len(st.Failures) + len(st.Pendings),
		SuccessCount: len(st.Successes), Successes: st.Successes,
		FailureCount: len(st.Failures), Failures: st.Failures,
		PendingCount: len(st.Pendings), Pendings: st.Pendings}
}

func owner(p auth.Principal) string { return p.Party + ":" + p.Name }

func (s *Server) status(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	st, err := s.st.Status(r.Context(), r.PathValue("status"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && st.Owner != owner(p)) {
		return errNotFound
	}
	if err != nil {
		return fmt.Errorf("read status: %w", err)
	}
	s.writeJSON(w, r, http.StatusOK, toStatusResource(st))
	return nil
}

// addObjects stores the objects of an envelope (TAXII 2.1 section 5.5).
// Each object is judged on its own: invalid ones are listed in the status's
// failures with the reason, valid ones are stored in one transaction. The
// 202 is sent only after that transaction is durable.
func (s *Server) addObjects(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ctx := r.Context()
	requested := time.Now()
	c, rt, err := s.lookup(ctx, r, p)
	if err != nil {
		return err
	}
	if !rt.Write {
		s.denied(p, "add objects", c.ID, "no write right")
		return &Error{Status: http.StatusForbidden, Title: "Forbidden", Description: "You may not add objects to this collection."}
	}
	if !taxiiContent(r.Header.Get("Content-Type")) {
		return &Error{Status: http.StatusUnsupportedMediaType, Title: "Unsupported media type",
			Description: "Send the envelope with Content-Type: " + mediaTAXII + "."}
	}
	tooLarge := &Error{Status: http.StatusRequestEntityTooLarge, Title: "Request too large",
		Description: fmt.Sprintf("The request body is larger than max_content_length (%d bytes); send fewer objects per request.", s.cfg.MaxContentLength)}
	if r.ContentLength > s.cfg.MaxContentLength {
		return tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxContentLength))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return tooLarge
		}
		return &Error{Status: http.StatusBadRequest, Title: "Bad request", Description: "The request body could not be read.", Err: err}
	}
	st, err := s.share(ctx, p, c, body, requested)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusAccepted, toStatusResource(st))
	return nil
}

// ErrNoWrite means the principal may not add objects to the collection.
var ErrNoWrite = errors.New("no right to add objects to this collection")

// Share adds the objects of a TAXII envelope to a collection as p, exactly
// as a POST to the collection's objects endpoint does: the same rights,
// validation, release computation and ledger appends. It is for local
// tools (puente share). It returns the status resource recorded. A
// collection p may not see is store.ErrNotFound; one p may see but not
// write to is ErrNoWrite.
func (s *Server) Share(ctx context.Context, p auth.Principal, collection string, envelope []byte) (store.Status, error) {
	requested := time.Now()
	c, err := s.st.Collection(ctx, collection)
	if err != nil {
		return store.Status{}, err
	}
	rt := s.rights(p, c)
	if !rt.Read && !rt.Write {
		s.denied(p, "share to collection", c.ID, "not a member of the group, or the party-internal collection")
		return store.Status{}, fmt.Errorf("collection %s: %w", collection, store.ErrNotFound)
	}
	if !rt.Write {
		s.denied(p, "add objects", c.ID, "no write right")
		return store.Status{}, ErrNoWrite
	}
	return s.share(ctx, p, c, envelope, requested)
}

// share adds the objects of envelope to c for p, who may write to it, and
// records the status resource.
func (s *Server) share(ctx context.Context, p auth.Principal, c store.Collection, body []byte, requested time.Time) (store.Status, error) {
	raws, err := parseEnvelope(body, s.cfg.MaxObjects)
	if err != nil {
		return store.Status{}, err
	}

	st := store.Status{ID: newUUID(), Owner: owner(p), CollectionID: c.ID, Status: "complete",
		RequestTimestamp: requested}
	objs := make([]store.NewObject, 0, len(raws))
	parsed := make([]*stix.Object, 0, len(raws))
	for _, raw := range raws {
		o, err := stix.Parse(raw)
		if err != nil {
			id, version := bestEffortIdentity(raw)
			st.Failures = append(st.Failures, store.StatusDetail{ID: truncate(id), Version: truncate(version), Message: truncate(err.Error())})
			continue
		}
		parsed = append(parsed, o)
	}
	mos := make([]marking.Object, 0, len(parsed))
	valid := parsed[:0]
	for _, o := range parsed {
		mo, err := marking.ObjectFrom(o, s.cfg.Party)
		if err != nil {
			st.Failures = append(st.Failures, store.StatusDetail{ID: o.ID, Version: o.Version, Message: truncate(err.Error())})
			continue
		}
		valid = append(valid, o)
		mos = append(mos, mo)
	}
	// The objects are judged against the node's marking definitions as
	// they are now. Should another request define one of them first with
	// other content, the store refuses the whole call (ErrConflict) and
	// they are judged again against that content.
	invalid := st.Failures
	var results []store.AddResult
	for attempt := 1; ; attempt++ {
		st.Failures, objs = slices.Clip(invalid), objs[:0]
		reg, refused, err := s.markings(ctx, c, valid, mos)
		if err != nil {
			return store.Status{}, err
		}
		group := marking.Group{Members: c.Members, DefaultMarking: c.DefaultMarking, Internal: c.Internal}
		for i, o := range valid {
			if refused[o.ID] && o.Type == "marking-definition" {
				st.Failures = append(st.Failures, store.StatusDetail{ID: o.ID, Version: o.Version,
					Message: "marking definitions cannot change: this id is already defined with other content"})
				continue
			}
			rs := marking.Compute(mos[i], group, reg)
			objs = append(objs, store.NewObject{ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion,
				Version: o.Version, VersionKey: o.VersionKey, Hash: o.Hash, Raw: o.Raw,
				Release: store.Release{Originator: rs.Originator, AllMembers: rs.AllMembers, Parties: rs.Parties, Expires: rs.Expires}})
		}
		if len(objs) == 0 {
			break
		}
		results, err = s.st.AddObjects(ctx, c.ID, objs)
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return store.Status{}, fmt.Errorf("add %d objects: %w", len(objs), err)
		}
		break
	}
	for _, res := range results {
		d := store.StatusDetail{ID: res.ID, Version: res.Version}
		switch res.Outcome {
		case store.Added:
			st.Successes = append(st.Successes, d)
		case store.Duplicate:
			d.Message = "identical version already stored"
			st.Successes = append(st.Successes, d)
		default:
			d.Message = "another object with this id and version is already stored"
			st.Failures = append(st.Failures, d)
		}
	}
	st.Created = time.Now()
	if err := s.st.PutStatus(ctx, st); err != nil {
		return store.Status{}, fmt.Errorf("store status: %w", err)
	}
	s.log.DebugContext(ctx, "objects added", slog.String("collection", c.ID), slog.String("status", st.ID),
		slog.Int("successes", len(st.Successes)), slog.Int("failures", len(st.Failures)))
	return st, nil
}

// markings returns a registry of the marking definitions that the objects
// of one request refer to (object-level, granular, and the group's
// default), and the ids of definitions in the request that must be
// refused.
//
// Marking definitions are immutable across the node: one id has one
// content, whatever its created time and whichever collection holds it.
// Stored definitions are loaded first, every version of them; an id stored
// with differing contents is left unknown (it then releases to nobody but
// the originator). A definition in the request is used only for an id the
// node does not hold yet, and refused when it differs from the stored one
// or from another copy in the same request. A definition found nowhere
// stays unknown: deny by default. The store keeps one content per id and
// refuses a call that brings another (store.Store.AddObjects), so two
// requests that read the definitions before either stored its own cannot
// both win: share judges the loser's objects again.
func (s *Server) markings(ctx context.Context, c store.Collection, objs []*stix.Object, mos []marking.Object) (*marking.Registry, map[string]bool, error) {
	var refs []string
	addRef := func(r string) {
		if r != "" && !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
	}
	addRef(c.DefaultMarking)
	for _, mo := range mos {
		for _, r := range mo.MarkingRefs {
			addRef(r)
		}
		for _, r := range mo.GranularRefs {
			addRef(r)
		}
	}
	for _, o := range objs {
		if o.Type == "marking-definition" {
			addRef(o.ID)
		}
	}
	reg := marking.NewRegistry()
	var unknown []string
	for _, r := range refs {
		if _, ok := reg.Definition(r); !ok {
			unknown = append(unknown, r)
		}
	}
	stored := map[string][][32]byte{}
	if len(unknown) > 0 {
		colls, err := s.st.Collections(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("find marking definitions: %w", err)
		}
		raws := map[string][]byte{}
		for _, coll := range colls {
			q := store.Query{CollectionID: coll.ID, IDs: unknown, Types: []string{"marking-definition"},
				Versions: store.VersionMatch{All: true}, Limit: 1000}
			for {
				pg, err := s.st.Objects(ctx, q)
				if err != nil {
					return nil, nil, fmt.Errorf("find marking definitions: %w", err)
				}
				for _, d := range pg.Objects {
					if !slices.Contains(stored[d.ID], d.Hash) {
						stored[d.ID] = append(stored[d.ID], d.Hash)
					}
					raws[d.ID] = d.Raw
				}
				if !pg.More {
					break
				}
				q.AddedAfter = pg.Objects[len(pg.Objects)-1].DateAdded
			}
		}
		for id, hashes := range stored {
			if len(hashes) == 1 {
				reg.Add(raws[id]) // an unparseable definition stays unknown
			}
		}
	}
	refused := map[string]bool{}
	inRequest := map[string][32]byte{}
	for _, o := range objs {
		if o.Type != "marking-definition" {
			continue
		}
		if hashes, ok := stored[o.ID]; ok && (len(hashes) != 1 || hashes[0] != o.Hash) {
			refused[o.ID] = true
			continue
		}
		if h, ok := inRequest[o.ID]; ok && h != o.Hash {
			refused[o.ID] = true
			continue
		}
		inRequest[o.ID] = o.Hash
	}
	for _, o := range objs {
		if o.Type == "marking-definition" && !refused[o.ID] {
			if _, ok := stored[o.ID]; !ok {
				reg.Add(o.Raw)
			}
		}
	}
	return reg, refused, nil
}

func errUnprocessable(desc string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Title: "Unprocessable envelope", Description: desc}
}

// parseEnvelope returns the raw objects of a TAXII envelope, at most
// maxObjects of them. It reads the envelope strictly: member names match
// exactly and appear once, nothing follows the envelope. Members other
// than objects (more, next, custom properties) are skipped.
func parseEnvelope(body []byte, maxObjects int) ([]json.RawMessage, error) {
	notEnvelope := errUnprocessable("The body must be a TAXII envelope: a JSON object with an \"objects\" list.")
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, notEnvelope
	}
	var objs []json.RawMessage
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errUnprocessable("The body is not a valid TAXII envelope: " + jsonProblem(err) + ".")
		}
		key := tok.(string) // object keys are always strings
		if seen[key] {
			return nil, errUnprocessable(fmt.Sprintf("The envelope has the member %q twice.", truncate(key)))
		}
		seen[key] = true
		switch key {
		case "objects":
			if objs, err = decodeObjects(dec, maxObjects); err != nil {
				return nil, err
			}
		case "type":
			return nil, errUnprocessable("The body looks like a STIX bundle; TAXII 2.1 takes an envelope: {\"objects\": [...]}.")
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, errUnprocessable("The body is not a valid TAXII envelope: " + jsonProblem(err) + ".")
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, errUnprocessable("The body is not a valid TAXII envelope: " + jsonProblem(err) + ".")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errUnprocessable("The body has data after the envelope.")
	}
	if len(objs) == 0 {
		return nil, errUnprocessable("The envelope holds no objects; put them in its \"objects\" list.")
	}
	return objs, nil
}

// decodeObjects reads the envelope's objects list, one element at a time,
// refusing more than maxObjects before reading them all.
func decodeObjects(dec *json.Decoder, maxObjects int) ([]json.RawMessage, error) {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, errUnprocessable("The envelope's \"objects\" must be a list of STIX objects.")
	}
	var objs []json.RawMessage
	for dec.More() {
		if len(objs) == maxObjects {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Title: "Too many objects",
				Description: fmt.Sprintf("An envelope may hold at most %d objects; send them in several requests.", maxObjects)}
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errUnprocessable("The body is not a valid TAXII envelope: " + jsonProblem(err) + ".")
		}
		objs = append(objs, raw)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, errUnprocessable("The body is not a valid TAXII envelope: " + jsonProblem(err) + ".")
	}
	return objs, nil
}

// jsonProblem describes a JSON decoding error without echoing input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%q must be a list of objects", te.Field)
	default:
		return "invalid JSON"
	}
}

// bestEffortIdentity extracts id and version from an object that failed
// validation, for its failure record. The values are whatever the object
// claims, or empty.
func bestEffortIdentity(raw []byte) (id, version string) {
	var v struct {
		ID       any `json:"id"`
		Created  any `json:"created"`
		Modified any `json:"modified"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return "", ""
	}
	str := func(a any) string { s, _ := a.(string); return s }
	version = str(v.Modified)
	if version == "" {
		version = str(v.Created)
	}
	return str(v.ID), version
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

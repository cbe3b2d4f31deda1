package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

// errNoObject: no object matches a lookup.
var errNoObject = errors.New("no object")

// Lookup says how to find an object: exactly one of the keys is set.
type Lookup struct {
	Channel string // "" searches every channel
	UPN     string
	DN      string
	GUID    string
	GraphID string
}

// guidLike matches a GUID in its canonical text form.
var guidLike = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ParseQuery reads what a person typed in the search box: a UPN has an @,
// a DN an =, a GUID is tried as a source GUID and then as a Graph id.
func ParseQuery(q string) Lookup {
	q = strings.TrimSpace(q)
	switch {
	case strings.Contains(q, "="):
		return Lookup{DN: q}
	case strings.Contains(q, "@"):
		return Lookup{UPN: q}
	case guidLike.MatchString(q):
		return Lookup{GUID: q, GraphID: q}
	}
	return Lookup{UPN: q}
}

func (l Lookup) String() string {
	switch {
	case l.UPN != "":
		return "UPN " + l.UPN
	case l.DN != "":
		return "DN " + l.DN
	case l.GUID != "":
		return "GUID " + l.GUID
	}
	return "Graph id " + l.GraphID
}

// ObjectView is everything known of one object.
type ObjectView struct {
	Channel   string         `json:"channel"`
	Kind      string         `json:"kind"`
	GUID      string         `json:"guid"`
	DN        string         `json:"dn"`
	Name      string         `json:"name,omitempty"`
	GraphID   string         `json:"graphId,omitempty"`
	Lifecycle string         `json:"lifecycle"`
	Status    string         `json:"status"`
	Attempts  int            `json:"attempts"`
	LastError string         `json:"lastError,omitempty"`
	NextRetry *time.Time     `json:"nextRetry,omitempty"`
	UpdatedAt time.Time      `json:"updatedAt"`
	Applied   map[string]any `json:"applied"`
	Licences  []Licence      `json:"licences"`
	Manager   *ObjectRef     `json:"manager,omitempty"`
	Groups    []ObjectRef    `json:"groups"`
	Source    *SourceEntry   `json:"source,omitempty"`
	SourceErr string         `json:"sourceError,omitempty"`
	History   []AuditView    `json:"history"`
}

// Licence is one licence o365prov assigned.
type Licence struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans,omitempty"`
}

// ObjectRef points at another provisioned object.
type ObjectRef struct {
	GUID string `json:"guid"`
	DN   string `json:"dn,omitempty"`
	Name string `json:"name,omitempty"`
}

// AuditView is one audit entry.
type AuditView struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	Channel   string    `json:"channel"`
	Cycle     int64     `json:"cycle"`
	Kind      string    `json:"kind,omitempty"`
	GUID      string    `json:"guid,omitempty"`
	DN        string    `json:"dn,omitempty"`
	Operation string    `json:"operation"`
	Result    string    `json:"result"`
	RequestID string    `json:"requestId,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

func auditView(e state.AuditEntry) AuditView {
	return AuditView{ID: e.ID, Time: e.Time, Channel: e.Channel, Cycle: e.Cycle, Kind: string(e.Kind), GUID: e.GUID, DN: e.DN, Operation: e.Operation, Result: e.Result, RequestID: e.RequestID, Detail: e.Detail}
}

// Applied keys the engine keeps besides mapped fields.
const (
	appliedLicences = "_licenses"
	appliedManager  = "_manager"
)

// historyShown is how many audit entries an object page lists.
const historyShown = 200

// FindObject finds an object and reads everything the object page shows.
// src, when set, reads the directory entry and its mapped values.
func FindObject(ctx context.Context, st Store, channels []ChannelInfo, src Controller, l Lookup) (ObjectView, error) {
	o, err := find(ctx, st, channels, l)
	if err != nil {
		return ObjectView{}, err
	}
	v := ObjectView{
		Channel: o.Channel, Kind: string(o.Kind), GUID: o.GUID, DN: o.DN, Name: appliedString(o.Applied, nameField(o.Kind)), GraphID: o.GraphID,
		Lifecycle: string(o.Lifecycle), Status: string(o.Status), Attempts: o.Attempts, LastError: o.LastError, UpdatedAt: o.UpdatedAt,
		Applied: map[string]any{}, Licences: []Licence{}, Groups: []ObjectRef{}, History: []AuditView{},
	}
	if !o.NextRetry.IsZero() {
		t := o.NextRetry
		v.NextRetry = &t
	}
	for k, raw := range o.Applied {
		if strings.HasPrefix(k, "_") || secretish(k) {
			continue
		}
		var x any
		if json.Unmarshal([]byte(raw), &x) == nil {
			v.Applied[k] = x
		}
	}
	if raw := o.Applied[appliedLicences]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &v.Licences) // an unreadable record shows as none
	}
	if mgr := appliedString(o.Applied, appliedManager); mgr != "" {
		v.Manager = ref(ctx, st, o.Channel, state.KindUser, mgr)
	}
	groups, err := st.GroupsOf(ctx, o.Channel, o.GUID)
	if err != nil {
		return v, fmt.Errorf("read groups of %s: %w", o.DN, err)
	}
	for _, g := range groups {
		v.Groups = append(v.Groups, *ref(ctx, st, o.Channel, state.KindGroup, g))
	}
	hist, err := st.QueryAudit(ctx, state.AuditQuery{Channel: o.Channel, GUID: o.GUID, Limit: historyShown})
	if err != nil {
		return v, fmt.Errorf("read audit of %s: %w", o.DN, err)
	}
	for _, e := range hist {
		v.History = append(v.History, auditView(e))
	}
	if src != nil && o.DN != "" {
		se, err := src.Source(ctx, o.Channel, o.Kind, o.DN)
		if err != nil {
			v.SourceErr = err.Error()
		} else {
			se = redactSource(se)
			v.Source = &se
		}
	}
	return v, nil
}

// ref names another object, or just its GUID when state does not know it.
func ref(ctx context.Context, st Store, channel string, kind state.Kind, guid string) *ObjectRef {
	r := &ObjectRef{GUID: guid}
	if o, err := st.Object(ctx, channel, kind, guid); err == nil {
		r.DN, r.Name = o.DN, appliedString(o.Applied, nameField(kind))
	}
	return r
}

// find looks the object up, channel by channel.
func find(ctx context.Context, st Store, channels []ChannelInfo, l Lookup) (state.Object, error) {
	for _, ch := range channels {
		if l.Channel != "" && ch.Name != l.Channel {
			continue
		}
		o, err := findIn(ctx, st, ch.Name, l)
		if err == nil {
			return o, nil
		}
		if !errors.Is(err, state.ErrNotFound) {
			return state.Object{}, fmt.Errorf("look up %s in %s: %w", l, ch.Name, err)
		}
	}
	return state.Object{}, fmt.Errorf("%w with %s", errNoObject, l)
}

func findIn(ctx context.Context, st Store, channel string, l Lookup) (state.Object, error) {
	kinds := []state.Kind{state.KindUser, state.KindGroup}
	switch {
	case l.GUID != "":
		for _, k := range kinds {
			if o, err := st.Object(ctx, channel, k, l.GUID); !errors.Is(err, state.ErrNotFound) {
				return o, err
			}
		}
		if l.GraphID == "" {
			return state.Object{}, state.ErrNotFound
		}
		return st.ObjectByGraphID(ctx, channel, l.GraphID)
	case l.GraphID != "":
		return st.ObjectByGraphID(ctx, channel, l.GraphID)
	case l.DN != "":
		for _, k := range kinds {
			if o, err := st.ObjectByDN(ctx, channel, k, l.DN); !errors.Is(err, state.ErrNotFound) {
				return o, err
			}
		}
		return state.Object{}, state.ErrNotFound
	case l.UPN != "":
		return findByUPN(ctx, st, channel, l.UPN)
	}
	return state.Object{}, fmt.Errorf("%w: give a UPN, DN, GUID or Graph id", errBadRequest)
}

// errFound stops a walk.
var errFound = errors.New("found")

// findByUPN walks the channel's users: state has no index by UPN (it is a
// mapped value, and it changes), and a lookup by person is rare.
func findByUPN(ctx context.Context, st Store, channel, upn string) (state.Object, error) {
	var hit state.Object
	err := st.Objects(ctx, channel, state.KindUser, func(o state.Object) error {
		if strings.EqualFold(appliedString(o.Applied, "userPrincipalName"), upn) {
			hit = o
			return errFound
		}
		return nil
	})
	switch {
	case errors.Is(err, errFound):
		return hit, nil
	case err != nil:
		return state.Object{}, err
	}
	return state.Object{}, state.ErrNotFound
}

// QueryAudit reads a page of the audit log.
func QueryAudit(ctx context.Context, st Store, q state.AuditQuery) ([]AuditView, error) {
	entries, err := st.QueryAudit(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	out := make([]AuditView, len(entries))
	for i, e := range entries {
		out[i] = auditView(e)
	}
	return out, nil
}

package faketenant

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// The state file is one JSON document, written atomically (temp file and
// rename) at most once a second while the directory changes, and on Close.
// A crash loses at most the last second of writes.

const stateVersion = 1

type stateFile struct {
	Version  int       `json:"version"`
	TenantID string    `json:"tenantId"`
	SavedAt  time.Time `json:"savedAt"`
	// TenantTime is the tenant clock at SavedAt; a restart resumes from it.
	TenantTime  time.Time     `json:"tenantTime,omitzero"`
	ClockOffset time.Duration `json:"clockOffset"`
	SigningKey  string        `json:"signingKey"`
	Objects     []objState    `json:"objects"`
	Domains     []domainState `json:"domains"`
}

type objState struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"`
	Props     map[string]any  `json:"props"`
	Created   time.Time       `json:"created"`
	VisibleAt time.Time       `json:"visibleAt"`
	DeletedAt time.Time       `json:"deletedAt,omitzero"`
	Password  passwordProfile `json:"password"`
	Manager   string          `json:"manager,omitempty"`
	Licenses  []license       `json:"licenses,omitempty"`
	Members   []string        `json:"members,omitempty"`
	Owners    []string        `json:"owners,omitempty"`
}

type domainState struct {
	Name             string         `json:"name"`
	IsDefault        bool           `json:"isDefault"`
	ValidityDays     int            `json:"validityDays,omitempty"`
	NotificationDays int            `json:"notificationDays,omitempty"`
	FederationID     string         `json:"federationId,omitempty"`
	Federation       map[string]any `json:"federation,omitempty"`
}

type persister struct {
	t     *Tenant
	path  string
	dirty atomic.Bool
	stop  chan struct{}
	done  chan struct{}
}

func (t *Tenant) markDirty() {
	if t.persist != nil {
		t.persist.dirty.Store(true)
	}
}

// startPersistence loads path if it exists and starts the saver.
func (t *Tenant) startPersistence(path string) error {
	p := &persister{t: t, path: path, stop: make(chan struct{}), done: make(chan struct{})}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read state file: %w", err)
	default:
		if err := t.loadState(data); err != nil {
			return fmt.Errorf("state file %s: %w", path, err)
		}
		t.log.Info("fake tenant state loaded", "path", path, "objects", len(t.dir.objects))
	}
	t.persist = p
	go p.loop()
	return nil
}

func (p *persister) loop() {
	defer close(p.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			if p.dirty.Swap(false) {
				if err := p.t.saveState(p.path); err != nil {
					p.t.log.Error("save fake tenant state", "path", p.path, "err", err)
					p.dirty.Store(true)
				}
			}
		}
	}
}

func (p *persister) close() error {
	select {
	case <-p.stop:
		return nil
	default:
	}
	close(p.stop)
	<-p.done
	return p.t.saveState(p.path)
}

// snapshotState copies the directory under the read lock; values in props
// are never mutated in place, so a shallow copy of each map is enough.
func (t *Tenant) snapshotState() *stateFile {
	t.mu.RLock()
	defer t.mu.RUnlock()
	sf := &stateFile{Version: stateVersion, TenantID: t.tenantID, SavedAt: t.wall.Now(), TenantTime: t.clock.Now(), ClockOffset: t.clock.Offset()}
	if t.signer != nil {
		sf.SigningKey = string(t.signer.keyPEM())
	}
	add := func(id string, _ uint64) bool {
		sf.Objects = append(sf.Objects, objectState(t.dir.objects[id]))
		return true
	}
	t.dir.users.scan(0, add)
	t.dir.groups.scan(0, add)
	t.dir.deleted.scan(0, add)
	for _, d := range t.dir.domains {
		ds := domainState{Name: d.name, IsDefault: d.isDefault, ValidityDays: d.validityDays, NotificationDays: d.notificationDays}
		if d.fed != nil {
			ds.FederationID, ds.Federation = d.fed.id, copyProps(d.fed.props)
		}
		sf.Domains = append(sf.Domains, ds)
	}
	return sf
}

func copyProps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func objectState(o *object) objState {
	s := objState{ID: o.id, Kind: o.kind.String(), Props: copyProps(o.props), Created: o.created, VisibleAt: o.visibleAt,
		DeletedAt: o.deletedAt, Password: o.password, Manager: o.manager, Licenses: append([]license(nil), o.licenses...)}
	if o.kind == kindGroup {
		s.Members = o.members.keys()
		for id := range o.owners {
			s.Owners = append(s.Owners, id)
		}
	}
	return s
}

func (t *Tenant) saveState(path string) error {
	data, err := json.Marshal(t.snapshotState())
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".faketenant-state-*")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// loadState replaces the directory with the saved one. Domains, apps and
// SKUs still come from the config; the file adds objects, federation
// settings, the tenant clock offset and the token signing key.
func (t *Tenant) loadState(data []byte) error {
	var sf stateFile
	if err := json.Unmarshal(data, &sf); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if sf.Version != stateVersion {
		return fmt.Errorf("unsupported state version %d", sf.Version)
	}
	if sf.TenantID != t.tenantID {
		return fmt.Errorf("the file belongs to tenant %s, not %s", sf.TenantID, t.tenantID)
	}
	if err := t.loadSigningKey(sf.SigningKey); err != nil {
		return err
	}
	t.clock.resume(sf.TenantTime, sf.SavedAt, sf.ClockOffset)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, ds := range sf.Domains {
		if err := t.restoreDomain(ds); err != nil {
			return err
		}
	}
	for _, st := range sf.Objects {
		if err := t.restoreObject(st); err != nil {
			return fmt.Errorf("object %s: %w", st.ID, err)
		}
	}
	t.relinkObjects(sf.Objects)
	t.expireLocked()
	return nil
}

func (t *Tenant) loadSigningKey(p string) error {
	if p == "" {
		return nil
	}
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return errors.New("signing key: not PEM")
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	t.signer, err = signingKeyFrom(key, t.wall.Now(), t.tenantID)
	return err
}

func (t *Tenant) restoreDomain(ds domainState) error {
	d := t.dir.domain(ds.Name)
	if d == nil {
		t.log.Warn("state file names a domain the config no longer has; ignoring it", "domain", ds.Name)
		return nil
	}
	d.isDefault, d.validityDays, d.notificationDays = ds.IsDefault, ds.ValidityDays, ds.NotificationDays
	d.fed = nil
	if ds.Federation != nil {
		fed := &federation{id: ds.FederationID, props: map[string]any{}}
		if msg := applyFederation(fed, ds.Federation, true); msg != "" {
			return fmt.Errorf("domain %s federation: %s", ds.Name, msg)
		}
		d.fed = fed
	}
	return nil
}

// restoreObject re-creates one object with its indexes; links come after.
func (t *Tenant) restoreObject(s objState) error {
	o := &object{id: s.ID, kind: kindUser, created: s.Created, visibleAt: s.VisibleAt, deletedAt: s.DeletedAt,
		password: s.Password, licenses: s.Licenses}
	sch := t.userSch
	if s.Kind == "group" {
		o.kind, sch = kindGroup, t.groupSch
		o.members, o.owners = newOrderedSet(), map[string]bool{}
	}
	props, err := normalizeProps(sch, s.Props)
	if err != nil {
		return err
	}
	o.props = props
	t.dir.objects[o.id] = o
	t.dir.index(o)
	if o.active() {
		t.dir.order(o.kind).add(o.id)
	} else {
		t.dir.deleted.add(o.id)
		if due := o.deletedAt.Add(deletedRetention).UnixNano(); t.expiry.next.Load() == 0 || due < t.expiry.next.Load() {
			t.expiry.next.Store(due)
		}
	}
	for _, l := range o.licenses {
		if sk := t.dir.sku(l.SkuID); sk != nil {
			sk.consumed++
		}
	}
	return nil
}

func (t *Tenant) relinkObjects(states []objState) {
	for _, s := range states {
		o := t.dir.objects[s.ID]
		if s.Manager != "" && t.dir.objects[s.Manager] != nil {
			t.dir.setManager(o, s.Manager)
		}
		for _, m := range s.Members {
			if t.dir.objects[m] != nil {
				o.members.add(m)
				t.dir.linkMember(o.id, m)
			}
		}
		for _, m := range s.Owners {
			if t.dir.objects[m] != nil {
				o.owners[m] = true
				t.dir.linkOwner(o.id, m)
			}
		}
	}
}

// normalizeProps turns JSON-decoded values back into their stored types.
func normalizeProps(sch *schema, in map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(in))
	for k, v := range in {
		p, ok := sch.lookup(k)
		if !ok {
			p, ok = sch.ext.restore(sch.resource, k)
		}
		if !ok {
			return nil, fmt.Errorf("unknown property %q", k)
		}
		val, msg := coerce(p, v)
		if msg != "" {
			return nil, fmt.Errorf("property %s: %s", k, msg)
		}
		if val != nil {
			out[p.name] = val
		}
	}
	return out, nil
}

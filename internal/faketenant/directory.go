package faketenant

import (
	"crypto/x509"
	"strings"
	"time"
)

type objKind uint8

const (
	kindUser objKind = iota + 1
	kindGroup
)

func (k objKind) String() string {
	if k == kindGroup {
		return "group"
	}
	return "user"
}

// object is a user or a group. Property values live in props in their
// stored form (string, bool, []string, map[string]any); relationships and
// computed state have their own fields.
type object struct {
	id        string
	kind      objKind
	props     map[string]any
	created   time.Time
	visibleAt time.Time // replication lag: by-id reads 404 before this
	deletedAt time.Time // zero while active

	// users
	password passwordProfile
	manager  string
	licenses []license

	// groups
	members *orderedSet
	owners  map[string]bool
}

type passwordProfile struct {
	Password                             string `json:"password,omitempty"`
	ForceChangePasswordNextSignIn        bool   `json:"forceChangePasswordNextSignIn"`
	ForceChangePasswordNextSignInWithMfa bool   `json:"forceChangePasswordNextSignInWithMfa"`
}

type license struct {
	SkuID    string    `json:"skuId"`
	Disabled []string  `json:"disabledPlans"`
	Assigned time.Time `json:"assigned"`
}

func (o *object) str(name string) string {
	s, _ := o.props[name].(string)
	return s
}

func (o *object) strs(name string) []string {
	s, _ := o.props[name].([]string)
	return s
}

func (o *object) boolean(name string) bool {
	b, _ := o.props[name].(bool)
	return b
}

func (o *object) active() bool { return o.deletedAt.IsZero() }

func (o *object) isUnified() bool {
	for _, t := range o.strs("groupTypes") {
		if strings.EqualFold(t, "Unified") {
			return true
		}
	}
	return false
}

func (o *object) isDynamic() bool {
	for _, t := range o.strs("groupTypes") {
		if strings.EqualFold(t, "DynamicMembership") {
			return true
		}
	}
	return false
}

type sku struct {
	skuID     string
	part      string
	plans     []ServicePlanConfig
	enabled   int
	suspended int
	warning   int
	consumed  int
}

func (s *sku) plan(id string) bool {
	for _, p := range s.plans {
		if strings.EqualFold(p.ID, id) {
			return true
		}
	}
	return false
}

type domain struct {
	name      string
	verified  bool
	isDefault bool
	isInitial bool
	fed       *federation
	// PATCHable settings; zero means Graph's defaults.
	validityDays     int
	notificationDays int
}

func (d *domain) authType() string {
	if d.fed != nil {
		return "Federated"
	}
	return "Managed"
}

// federation is an internalDomainFederation (graph.md §10.2).
type federation struct {
	id       string
	props    map[string]any
	cert     *x509.Certificate
	nextCert *x509.Certificate
}

// directory is the tenant's data. Every method expects the tenant lock.
type directory struct {
	objects   map[string]*object         // active and soft-deleted
	users     *orderedSet                // active users, creation order
	groups    *orderedSet                // active groups
	deleted   *orderedSet                // soft-deleted users and groups
	upn       map[string]string          // lower UPN → id
	addr      map[string]string          // lower SMTP address (mail, proxyAddresses) → id
	immutable map[string]string          // onPremisesImmutableId → id
	nickname  map[string]string          // lower mailNickname of Unified groups → id
	memberOf  map[string]map[string]bool // member id → group ids
	ownerOf   map[string]map[string]bool // owner id → group ids
	reports   map[string]map[string]bool // manager id → report ids
	skus      []*sku
	domains   []*domain
}

func newDirectory() *directory {
	return &directory{
		objects: map[string]*object{}, users: newOrderedSet(), groups: newOrderedSet(), deleted: newOrderedSet(),
		upn: map[string]string{}, addr: map[string]string{}, immutable: map[string]string{}, nickname: map[string]string{},
		memberOf: map[string]map[string]bool{}, ownerOf: map[string]map[string]bool{}, reports: map[string]map[string]bool{},
	}
}

func (d *directory) domain(name string) *domain {
	for _, dm := range d.domains {
		if strings.EqualFold(dm.name, name) {
			return dm
		}
	}
	return nil
}

func (d *directory) defaultDomain() *domain {
	for _, dm := range d.domains {
		if dm.isDefault {
			return dm
		}
	}
	for _, dm := range d.domains {
		if dm.isInitial {
			return dm
		}
	}
	return d.domains[0]
}

func (d *directory) sku(id string) *sku {
	for _, s := range d.skus {
		if strings.EqualFold(s.skuID, id) {
			return s
		}
	}
	return nil
}

// addresses returns the SMTP addresses an object holds: mail and
// proxyAddresses, lower-cased and without their smtp: prefix.
func addresses(o *object) []string {
	var out []string
	if m := o.str("mail"); m != "" {
		out = append(out, strings.ToLower(m))
	}
	for _, p := range o.strs("proxyAddresses") {
		typ, addr, ok := strings.Cut(p, ":")
		if ok && strings.EqualFold(typ, "smtp") {
			a := strings.ToLower(addr)
			if len(out) == 0 || out[0] != a {
				out = append(out, a)
			}
		}
	}
	return out
}

// uniqueKeys are the values an object holds that must be unique across the
// directory. A soft-deleted user releases its UPN and SMTP addresses, as in
// Entra, where another user may take them (docs/graph.md §14); it keeps its
// onPremisesImmutableId. A soft-deleted group keeps everything.
type uniqueKeys struct {
	upn       string
	addrs     []string
	immutable string
	nickname  string
}

func keysOf(o *object) uniqueKeys {
	k := uniqueKeys{immutable: o.str("onPremisesImmutableId")}
	if o.kind == kindUser && !o.active() {
		return k
	}
	k.addrs = addresses(o)
	if o.kind == kindUser {
		k.upn = strings.ToLower(o.str("userPrincipalName"))
	}
	if o.kind == kindGroup && o.isUnified() {
		k.nickname = strings.ToLower(o.str("mailNickname"))
	}
	return k
}

// conflict names the first unique property of o that another object holds.
func (d *directory) conflict(o *object) string {
	k := keysOf(o)
	taken := func(m map[string]string, key string) bool {
		id, ok := m[key]
		return ok && key != "" && id != o.id
	}
	switch {
	case taken(d.upn, k.upn):
		return "userPrincipalName"
	case taken(d.immutable, k.immutable):
		return "onPremisesImmutableId"
	case taken(d.nickname, k.nickname):
		return "mailNickname"
	}
	for _, a := range k.addrs {
		if taken(d.addr, a) {
			return "proxyAddresses"
		}
	}
	return ""
}

func (d *directory) index(o *object) {
	k := keysOf(o)
	if k.upn != "" {
		d.upn[k.upn] = o.id
	}
	if k.immutable != "" {
		d.immutable[k.immutable] = o.id
	}
	if k.nickname != "" {
		d.nickname[k.nickname] = o.id
	}
	for _, a := range k.addrs {
		d.addr[a] = o.id
	}
}

func (d *directory) unindex(o *object) {
	k := keysOf(o)
	del := func(m map[string]string, key string) {
		if key != "" && m[key] == o.id {
			delete(m, key)
		}
	}
	del(d.upn, k.upn)
	del(d.immutable, k.immutable)
	del(d.nickname, k.nickname)
	for _, a := range k.addrs {
		del(d.addr, a)
	}
}

// insert adds a new active object.
func (d *directory) insert(o *object) {
	d.objects[o.id] = o
	d.index(o)
	d.order(o.kind).add(o.id)
}

func (d *directory) order(k objKind) *orderedSet {
	if k == kindGroup {
		return d.groups
	}
	return d.users
}

// softDelete moves an object to deleted items. It keeps its memberships and
// its licences (graph.md §8: soft-deleted users keep their group
// memberships), and the unique values keysOf says a deleted object holds.
func (d *directory) softDelete(o *object, now time.Time) {
	d.unindex(o)
	o.deletedAt = now
	d.index(o)
	d.order(o.kind).remove(o.id)
	d.deleted.add(o.id)
}

// restore brings an object back; the caller has checked with
// restoreConflict that its unique values are free.
func (d *directory) restore(o *object) {
	o.deletedAt = time.Time{}
	d.index(o)
	d.deleted.remove(o.id)
	d.order(o.kind).add(o.id)
}

// purge removes an object for good, with every link to it.
func (d *directory) purge(o *object) {
	d.unindex(o)
	d.order(o.kind).remove(o.id)
	d.deleted.remove(o.id)
	delete(d.objects, o.id)
	for gid := range d.memberOf[o.id] {
		if g := d.objects[gid]; g != nil {
			g.members.remove(o.id)
		}
	}
	delete(d.memberOf, o.id)
	for gid := range d.ownerOf[o.id] {
		if g := d.objects[gid]; g != nil {
			delete(g.owners, o.id)
		}
	}
	delete(d.ownerOf, o.id)
	if o.kind == kindGroup {
		for _, m := range o.members.keys() {
			d.unlinkMember(o.id, m)
		}
		for m := range o.owners {
			if s := d.ownerOf[m]; s != nil {
				delete(s, o.id)
				if len(s) == 0 {
					delete(d.ownerOf, m)
				}
			}
		}
	}
	for rid := range d.reports[o.id] {
		if r := d.objects[rid]; r != nil && r.manager == o.id {
			r.manager = ""
		}
	}
	delete(d.reports, o.id)
	if o.manager != "" {
		delete(d.reports[o.manager], o.id)
	}
	for _, l := range o.licenses {
		if s := d.sku(l.SkuID); s != nil {
			s.consumed--
		}
	}
}

func (d *directory) linkMember(gid, mid string) {
	if d.memberOf[mid] == nil {
		d.memberOf[mid] = map[string]bool{}
	}
	d.memberOf[mid][gid] = true
}

func (d *directory) linkOwner(gid, oid string) {
	if d.ownerOf[oid] == nil {
		d.ownerOf[oid] = map[string]bool{}
	}
	d.ownerOf[oid][gid] = true
}

func (d *directory) unlinkMember(gid, mid string) {
	if s := d.memberOf[mid]; s != nil {
		delete(s, gid)
		if len(s) == 0 {
			delete(d.memberOf, mid)
		}
	}
}

func (d *directory) setManager(u *object, mgr string) {
	if u.manager != "" {
		if s := d.reports[u.manager]; s != nil {
			delete(s, u.id)
			if len(s) == 0 {
				delete(d.reports, u.manager)
			}
		}
	}
	u.manager = mgr
	if mgr != "" {
		if d.reports[mgr] == nil {
			d.reports[mgr] = map[string]bool{}
		}
		d.reports[mgr][u.id] = true
	}
}

// userByKey finds an active user by id or UPN.
func (d *directory) userByKey(key string) *object {
	if o := d.objects[key]; o != nil && o.kind == kindUser && o.active() {
		return o
	}
	if id, ok := d.upn[strings.ToLower(key)]; ok {
		if o := d.objects[id]; o != nil && o.active() {
			return o
		}
	}
	return nil
}

func (d *directory) groupByID(id string) *object {
	if o := d.objects[id]; o != nil && o.kind == kindGroup && o.active() {
		return o
	}
	return nil
}

func (d *directory) activeObject(id string) *object {
	if o := d.objects[id]; o != nil && o.active() {
		return o
	}
	return nil
}

func (d *directory) userCount() int { return d.users.len() }

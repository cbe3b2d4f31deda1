package faketenant

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// deletedRetention is how long deleted items can be restored (graph.md §1.5).
const deletedRetention = 30 * 24 * time.Hour

// expiry tracks the earliest moment a deleted item falls due, so the purge
// check on every request is one atomic load.
type expiry struct{ next atomic.Int64 }

// softDelete moves o to deleted items. The caller holds the write lock.
func (t *Tenant) softDelete(o *object) {
	now := t.clock.Now()
	t.dir.softDelete(o, now)
	due := now.Add(deletedRetention).UnixNano()
	for {
		cur := t.expiry.next.Load()
		if cur != 0 && cur <= due {
			return
		}
		if t.expiry.next.CompareAndSwap(cur, due) {
			return
		}
	}
}

// maybeExpire purges deleted items older than 30 days of tenant time, so
// they stop holding their UPN and addresses.
func (t *Tenant) maybeExpire() {
	due := t.expiry.next.Load()
	if due == 0 || t.clock.Now().UnixNano() < due {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked()
}

func (t *Tenant) expireLocked() {
	now := t.clock.Now()
	var next int64
	for _, id := range t.dir.deleted.keys() {
		o := t.dir.objects[id]
		due := o.deletedAt.Add(deletedRetention)
		if !now.Before(due) {
			t.dir.purge(o)
			t.markDirty()
			continue
		}
		if next == 0 || due.UnixNano() < next {
			next = due.UnixNano()
		}
	}
	t.expiry.next.Store(next)
}

// listDeletedUntyped: "Calling GET /directory/deletedItems without a type is
// not supported" (graph.md §1.5); Graph answers it as an unsupported query.
func (t *Tenant) listDeletedUntyped(rc *reqCtx) *gresp {
	return rc.unsupportedQuery("Searches against this resource are not supported. Only specific instances can be queried.")
}

func (t *Tenant) listDeleted(rc *reqCtx, kind objKind) *gresp {
	sch := t.userSch
	order := []string{"displayName", "userPrincipalName"}
	if kind == kindGroup {
		sch, order = t.groupSch, []string{"displayName"}
	}
	q, bad := t.parseQuery(rc, sch, queryOpts{collection: true, pageSize: 100, filter: true, orderBy: order})
	if bad != nil {
		return bad
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	spec := listSpec{set: t.dir.deleted, kind: kind, context: "directoryObjects/" + sch.odataType, typed: true}
	return t.listObjects(rc, q, spec)
}

func (t *Tenant) listDeletedUsers(rc *reqCtx) *gresp  { return t.listDeleted(rc, kindUser) }
func (t *Tenant) listDeletedGroups(rc *reqCtx) *gresp { return t.listDeleted(rc, kindGroup) }

func (t *Tenant) deletedRef(rc *reqCtx) (*object, *gresp) {
	o := t.dir.objects[strings.ToLower(rc.param(0))]
	if o == nil || o.active() {
		return nil, rc.notFound(rc.param(0))
	}
	return o, nil
}

func (t *Tenant) getDeletedItem(rc *reqCtx) *gresp {
	t.mu.RLock()
	defer t.mu.RUnlock()
	o, bad := t.deletedRef(rc)
	if bad != nil {
		return bad
	}
	body := jsonObject{{"@odata.context", rc.context("directoryObjects/$entity")}}
	body = append(body, t.render(o, nil, true)...)
	if _, ok := body.get("deletedDateTime"); !ok {
		body = append(body, kv{"deletedDateTime", t.value(o, "deletedDateTime")})
	}
	return jsonResp(http.StatusOK, body)
}

// canWriteDeleted: users need User.ReadWrite.All, groups Group.ReadWrite.All.
func canWriteDeleted(rc *reqCtx, o *object) bool {
	if o.kind == kindGroup {
		return rc.app.perms["Group.ReadWrite.All"]
	}
	return rc.app.perms["User.ReadWrite.All"]
}

// purgeDeletedItem is DELETE /directory/deletedItems/{id}: gone for good.
func (t *Tenant) purgeDeletedItem(rc *reqCtx) *gresp {
	t.mu.Lock()
	defer t.mu.Unlock()
	o, bad := t.deletedRef(rc)
	if bad != nil {
		return bad
	}
	if !canWriteDeleted(rc, o) {
		return rc.denied()
	}
	t.dir.purge(o)
	t.markDirty()
	return noContent()
}

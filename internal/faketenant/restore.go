package faketenant

import (
	"net/http"
	"strings"
	"time"
)

// restoreOptions is the optional body of POST …/restore. Graph documents
// autoReconcileProxyConflict; newUserPrincipalName is the directory
// cmdlets' -NewUserPrincipalName path for a user whose UPN another active
// user has taken since (docs/graph.md §14).
type restoreOptions struct {
	reconcileProxies bool
	newUPN           string
}

func parseRestoreOptions(rc *reqCtx) (restoreOptions, *gresp) {
	var opts restoreOptions
	body, bad := rc.decodeBody()
	if bad != nil {
		return opts, bad
	}
	for k, v := range body {
		switch k {
		case "autoReconcileProxyConflict":
			b, ok := v.(bool)
			if !ok {
				return opts, rc.badRequest("Invalid value specified for property 'autoReconcileProxyConflict': a Boolean is required.")
			}
			opts.reconcileProxies = b
		case "newUserPrincipalName":
			s, ok := v.(string)
			if !ok || s == "" {
				return opts, rc.badRequest("Invalid value specified for property 'newUserPrincipalName': a non-empty string is required.")
			}
			opts.newUPN = s
		default:
			return opts, rc.badRequest("Property '" + k + "' does not exist on the restore action; allowed: autoReconcileProxyConflict, newUserPrincipalName.")
		}
	}
	return opts, nil
}

// restoreDeletedItem is POST …/restore: 200 with the object (graph.md
// §1.5). A user whose UPN or addresses another active object has taken
// meanwhile is refused with the duplicate-value error of §1.1, unless the
// request gives a new UPN or asks to drop the conflicting proxy addresses.
func (t *Tenant) restoreDeletedItem(rc *reqCtx) *gresp {
	opts, bad := parseRestoreOptions(rc)
	if bad != nil {
		return bad
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	o, bad := t.deletedRef(rc)
	if bad != nil {
		return bad
	}
	if !canWriteDeleted(rc, o) {
		return rc.denied()
	}
	if opts.newUPN != "" && o.kind != kindUser {
		return rc.badRequest("newUserPrincipalName applies to users only.")
	}
	next, bad := t.restorable(rc, o, opts)
	if bad != nil {
		return bad
	}
	o.props = next.props
	t.dir.restore(o)
	t.markDirty()
	body := jsonObject{{"@odata.context", rc.context("directoryObjects/$entity")}}
	return jsonResp(http.StatusOK, append(body, t.render(o, nil, true)...))
}

// restorable returns the object as it would come back: with the new UPN
// and, when asked, without the addresses others hold. It is refused if a
// unique value is still taken. The caller holds the write lock.
func (t *Tenant) restorable(rc *reqCtx, o *object, opts restoreOptions) (*object, *gresp) {
	next := cloneObject(o)
	next.deletedAt = time.Time{} // judged as the active object it would be
	if opts.newUPN != "" {
		next.props["userPrincipalName"] = opts.newUPN
		if bad := t.checkUPN(rc, next); bad != nil {
			return nil, bad
		}
	}
	if opts.reconcileProxies {
		t.dropTakenAddresses(next)
	}
	if prop := t.dir.conflict(next); prop != "" {
		return nil, rc.conflictResp(prop)
	}
	return next, nil
}

// dropTakenAddresses removes from a user being restored the SMTP addresses
// (proxyAddresses entries, and mail) that another object holds.
func (t *Tenant) dropTakenAddresses(o *object) {
	taken := func(addr string) bool {
		id, ok := t.dir.addr[strings.ToLower(addr)]
		return ok && id != o.id
	}
	if m := o.str("mail"); m != "" && taken(m) {
		delete(o.props, "mail")
	}
	var keep []string
	for _, p := range o.strs("proxyAddresses") {
		typ, addr, ok := strings.Cut(p, ":")
		if ok && strings.EqualFold(typ, "smtp") && taken(addr) {
			continue
		}
		keep = append(keep, p)
	}
	if keep == nil {
		delete(o.props, "proxyAddresses")
	} else {
		o.props["proxyAddresses"] = keep
	}
}

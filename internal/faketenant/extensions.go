package faketenant

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// Directory extensions (docs/graph.md §14): an application registers an
// extensionProperty; its name becomes extension_{appId without hyphens}_{name}
// and the property can then be set, $selected and $filtered (eq) on the
// objects it targets, like a declared property. This file serves
//
//	GET  /applications/{id}/extensionProperties[?$filter=name eq '…']
//	POST /applications/{id}/extensionProperties
//
// where {id} is the application's object id or, in the alternate-key form
// applications(appId='{appId}'), its client id.

// extensionRegistry holds the registered directory extensions. It has its
// own lock: schema lookups happen outside the tenant's.
type extensionRegistry struct {
	mu   sync.RWMutex
	defs map[string]*extensionDef // by lower-case full name
}

type extensionDef struct {
	id       string
	appName  string
	dataType string
	targets  []string // resource names: User, Group
	prop     propDef
}

func newExtensionRegistry() *extensionRegistry {
	return &extensionRegistry{defs: map[string]*extensionDef{}}
}

// lookup finds a registered extension that targets resource.
func (x *extensionRegistry) lookup(resource, name string) (*propDef, bool) {
	if x == nil || !strings.HasPrefix(strings.ToLower(name), "extension_") {
		return nil, false
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	d := x.defs[strings.ToLower(name)]
	if d == nil || !slices.Contains(d.targets, resource) {
		return nil, false
	}
	p := d.prop
	p.owner = strings.ToLower(resource)
	return &p, true
}

// restore registers, while a persisted directory is read back, an extension
// whose values the directory holds: the registration itself is not
// persisted, and a value cannot exist without one.
func (x *extensionRegistry) restore(resource, name string) (*propDef, bool) {
	if !extensionName.MatchString(name) {
		return nil, false
	}
	x.mu.Lock()
	if x.defs[strings.ToLower(name)] == nil {
		x.defs[strings.ToLower(name)] = newExtensionDef(uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)).String(), "", name, "String", []string{resource})
	} else if d := x.defs[strings.ToLower(name)]; !slices.Contains(d.targets, resource) {
		d.targets = append(d.targets, resource)
	}
	x.mu.Unlock()
	return x.lookup(resource, name)
}

// extensionName is the form of a directory extension's full name.
var extensionName = regexp.MustCompile(`^extension_[0-9a-fA-F]{32}_[A-Za-z0-9_]+$`)

func newExtensionDef(id, appName, name, dataType string, targets []string) *extensionDef {
	typ := tString
	if dataType == "Boolean" {
		typ = tBool
	}
	// A String directory extension holds at most 256 characters; eq is
	// served without advanced query headers.
	return &extensionDef{id: id, appName: appName, dataType: dataType, targets: targets,
		prop: propDef{name: name, typ: typ, writable: true, maxLen: 256, basic: opEq, adv: opEq | opIn | opNe | opNull}}
}

// extensionTargets are the resources the fake can extend; Graph also
// accepts AdministrativeUnit, Application, Device and Organization.
var extensionTargets = []string{"User", "Group"}

// extensionDataTypes are Graph's directory extension data types.
var extensionDataTypes = []string{"Binary", "Boolean", "DateTime", "Integer", "LargeInteger", "String"}

// appFor resolves the {id} of an applications path: an application object
// id (derived from the client id, stable across restarts) or a client id.
func (t *Tenant) appFor(rc *reqCtx) (*registeredApp, *gresp) {
	key := strings.ToLower(rc.param(0))
	if a := t.apps[key]; a != nil {
		return a, nil
	}
	for _, a := range t.apps {
		if applicationObjectID(a) == key {
			return a, nil
		}
	}
	return nil, rc.notFound(rc.param(0))
}

func applicationObjectID(a *registeredApp) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("application:"+a.clientID)).String()
}

func (d *extensionDef) json() jsonObject {
	return jsonObject{
		{"id", d.id}, {"deletedDateTime", nil}, {"appDisplayName", d.appName}, {"dataType", d.dataType},
		{"isMultiValued", false}, {"isSyncedFromOnPremises", false}, {"name", d.prop.name}, {"targetObjects", d.targets},
	}
}

// nameFilter is the one $filter the list accepts: name eq '…'.
var nameFilter = regexp.MustCompile(`^\s*name\s+eq\s+'([^']*)'\s*$`)

func (t *Tenant) listExtensionProperties(rc *reqCtx) *gresp {
	a, bad := t.appFor(rc)
	if bad != nil {
		return bad
	}
	want := ""
	if f := rc.query.Get("$filter"); f != "" {
		m := nameFilter.FindStringSubmatch(f)
		if m == nil {
			return rc.unsupportedQuery("Unsupported Query.")
		}
		want = strings.ToLower(m[1])
	}
	prefix := "extension_" + strings.ReplaceAll(a.clientID, "-", "") + "_"
	x := t.extensions
	x.mu.RLock()
	var out []jsonObject
	for key, d := range x.defs {
		if strings.HasPrefix(key, prefix) && (want == "" || key == want) {
			out = append(out, d.json())
		}
	}
	x.mu.RUnlock()
	slices.SortFunc(out, func(a, b jsonObject) int { return strings.Compare(a[0].v.(string), b[0].v.(string)) })
	if out == nil {
		out = []jsonObject{}
	}
	return jsonResp(http.StatusOK, jsonObject{{"@odata.context", rc.context("applications('" + applicationObjectID(a) + "')/extensionProperties")}, {"value", out}})
}

// localExtensionName is what an application may call its extension.
var localExtensionName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

func (t *Tenant) createExtensionProperty(rc *reqCtx) *gresp {
	a, bad := t.appFor(rc)
	if bad != nil {
		return bad
	}
	body, bad := rc.decodeBody()
	if bad != nil {
		return bad
	}
	name, _ := body["name"].(string)
	dataType, _ := body["dataType"].(string)
	rawTargets, _ := body["targetObjects"].([]any)
	switch {
	case name == "":
		return rc.badRequest("A value is required for property 'name' of resource 'ExtensionProperty'.")
	case !localExtensionName.MatchString(name):
		return rc.badRequest("Invalid value specified for property 'name' of resource 'ExtensionProperty'.")
	case !slices.Contains(extensionDataTypes, dataType):
		return rc.badRequest("Invalid value specified for property 'dataType' of resource 'ExtensionProperty'.")
	case len(rawTargets) == 0:
		return rc.badRequest("A value is required for property 'targetObjects' of resource 'ExtensionProperty'.")
	}
	var targets []string
	for _, v := range rawTargets {
		s, _ := v.(string)
		i := slices.IndexFunc(extensionTargets, func(x string) bool { return strings.EqualFold(x, s) })
		if i < 0 {
			return rc.badRequest("Invalid value specified for property 'targetObjects' of resource 'ExtensionProperty'.")
		}
		targets = append(targets, extensionTargets[i])
	}
	full := "extension_" + strings.ReplaceAll(a.clientID, "-", "") + "_" + name
	if len(full) > 120 {
		return rc.badRequest("Invalid value specified for property 'name' of resource 'ExtensionProperty'.")
	}
	x := t.extensions
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, taken := x.defs[strings.ToLower(full)]; taken {
		return rc.badRequest(fmt.Sprintf("Another object with the same value for property name already exists: %s.", full))
	}
	d := newExtensionDef(uuid.NewSHA1(uuid.NameSpaceOID, []byte(full)).String(), a.name, full, dataType, targets)
	x.defs[strings.ToLower(full)] = d
	return jsonResp(http.StatusCreated, append(jsonObject{{"@odata.context", rc.context("applications('" + applicationObjectID(a) + "')/extensionProperties/$entity")}}, d.json()...))
}

// addExtensionRoutes serves directory extension registration. Listing
// needs Application.Read.All or a directory read permission; registering,
// Application.ReadWrite.OwnedBy (the app's own registration),
// Application.ReadWrite.All or Directory.ReadWrite.All.
func (t *Tenant) addExtensionRoutes(rt *router) {
	read := []string{"Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	write := []string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All"}
	rt.add(http.MethodGet, "/v1.0/applications/{id}/extensionProperties", read, 2, t.listExtensionProperties)
	rt.add(http.MethodPost, "/v1.0/applications/{id}/extensionProperties", write, 1, t.createExtensionProperty)
}

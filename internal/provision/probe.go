package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/directory"
	"github.com/o365prov/o365prov/internal/graph"
	"github.com/o365prov/o365prov/internal/mapping"
)

// Probe is the result of one check of `o365prov check --connect`.
type Probe struct {
	Channel string // empty for the tenant
	What    string // "directory ldap://…", "user search", "token", …
	Found   string // what was found, when it passed
	Err     error  // nil when it passed
	Fix     string // what to do, when it failed
}

// ProbeConnections tries what a cycle needs, reading only: for each channel
// (or those in o.Channels), bind to its directory and run its user and
// group searches for one entry; then get a token for the app, read the
// tenant's domains, subscribed SKUs and one user, and check that the
// first user of each channel would get a verified domain and known
// licence names. Nothing is written anywhere.
func ProbeConnections(ctx context.Context, cfg *config.Config, o Options) ([]Probe, error) {
	if err := CheckChannels(cfg, o.Channels); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var probes []Probe
	samples := map[string]mapping.Object{}
	for _, ch := range cfg.Channels {
		if !wanted(ch.Name, o.Channels) {
			continue
		}
		ps, sample := probeDirectory(ctx, ch, o.Logger.With("channel", ch.Name))
		probes = append(probes, ps...)
		if sample != nil {
			samples[ch.Name] = *sample
		}
	}
	gc, err := graph.New(cfg.Target, graph.Options{HTTPClient: o.HTTPClient, Logger: o.Logger.With("component", "graph")})
	if err != nil {
		return probes, fmt.Errorf("graph client: %w", err)
	}
	defer gc.Close()
	return append(probes, probeTenant(ctx, cfg, gc, samples)...), nil
}

// probeDirectory binds and searches one channel's directory. It returns the
// first user in scope, mapped, when there is one.
func probeDirectory(ctx context.Context, ch config.Channel, log *slog.Logger) ([]Probe, *mapping.Object) {
	src := ch
	src.Source.PageSize = 1 // the searches stop at their first entry
	what := "directory " + ch.Source.URL
	d, err := OpenDirectory(ctx, src, directory.WithLogger(log), directory.WithPoolSize(1))
	if err != nil {
		p := Probe{Channel: ch.Name, What: what, Err: err}
		var se *PeerError
		if errors.As(err, &se) {
			p.Err, p.Fix = se.Err, se.Fix
		}
		return []Probe{p}, nil
	}
	defer d.Close()
	bound := "bound anonymously"
	if ch.Source.BindDN != "" {
		bound = "bound as " + ch.Source.BindDN
	}
	probes := []Probe{{Channel: ch.Name, What: what, Found: bound}}
	users, errs := mapping.Compile(mapping.User, ch.Mapping.User, mapping.Options{Base64ImmutableID: ch.Options.Base64ImmutableID})
	if len(errs) > 0 {
		return append(probes, Probe{Channel: ch.Name, What: "user mapping", Err: errs[0], Fix: "run o365prov check without --connect"}), nil
	}
	attrs := users.Attributes()
	if users.AllAttributes() {
		attrs = []string{"*"}
	}
	first, err := firstEntry(ctx, func(fn func(directory.Entry) error) error {
		_, err := d.Users(ctx, attrs, fn)
		return err
	})
	probes = append(probes, searchProbe(ch, "user search", "source.users", first, err))
	var sample *mapping.Object
	if first != nil {
		obj, err := users.Map(mapping.Entry{DN: first.DN, GUID: first.GUID, RawGUID: first.RawGUID, Enabled: first.Enabled, Attributes: first.Attributes})
		if err != nil {
			probes = append(probes, Probe{Channel: ch.Name, What: "user mapping", Err: fmt.Errorf("%s: %w", first.DN, err), Fix: "check the mapping against this entry's attributes"})
		} else {
			sample = &obj
		}
	}
	if ch.Source.Groups != nil {
		g, err := firstEntry(ctx, func(fn func(directory.Entry) error) error {
			_, err := d.Groups(ctx, []string{"cn"}, fn)
			return err
		})
		probes = append(probes, searchProbe(ch, "group search", "source.groups", g, err))
	}
	return probes, sample
}

// errEnough ends a search at its first entry.
var errEnough = errors.New("one entry is enough")

func firstEntry(ctx context.Context, search func(func(directory.Entry) error) error) (*directory.Entry, error) {
	var first *directory.Entry
	err := search(func(e directory.Entry) error {
		first = &e
		return errEnough
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return first, err
}

func searchProbe(ch config.Channel, what, field string, first *directory.Entry, err error) Probe {
	p := Probe{Channel: ch.Name, What: what}
	switch {
	case err != nil:
		p.Err = err
		p.Fix = fmt.Sprintf("check source.baseDN (%s) and %s (filter, groupDN)", ch.Source.BaseDN, field)
	case first == nil:
		p.Err = errors.New("found nobody in scope")
		p.Fix = fmt.Sprintf("check source.baseDN (%s) and %s: a channel with nobody in scope provisions nobody", ch.Source.BaseDN, field)
	default:
		p.Found = "found " + first.DN
	}
	return p
}

// permissionFor names the application permission a read needs.
var permissionFor = map[string]string{
	"domains":        "Domain.Read.All",
	"subscribedSkus": "Organization.Read.All",
	"users":          "User.ReadWrite.All",
}

// graphProbe turns a failed Graph read into a Probe saying what to do.
func graphProbe(what string, err error) Probe {
	p := Probe{What: what, Err: err}
	var ge *graph.Error
	if errors.As(err, &ge) && ge.Status == 403 {
		p.Fix = fmt.Sprintf("the app lacks the permission: grant it %s (an application permission, with admin consent)", permissionFor[what])
	} else {
		p.Fix = "check target.graphURL and that Graph can be reached from here"
	}
	return p
}

func probeTenant(ctx context.Context, cfg *config.Config, gc *graph.Client, samples map[string]mapping.Object) []Probe {
	tok := Probe{What: "token for app " + cfg.Target.ClientID}
	if err := gc.Authenticate(ctx); err != nil {
		var se *PeerError
		if errors.As(tenantError(cfg.Target, err), &se) {
			tok.Err, tok.Fix = se.Err, se.Fix
		}
		return []Probe{tok}
	}
	tok.Found = "obtained"
	probes := []Probe{tok}

	domains, err := gc.ListDomains(ctx)
	verified := map[string]bool{}
	if err != nil {
		probes = append(probes, graphProbe("domains", err))
	} else {
		var names []string
		for _, d := range domains {
			verified[strings.ToLower(d.ID)] = d.IsVerified
			state := "verified"
			if !d.IsVerified {
				state = "NOT verified"
			}
			names = append(names, fmt.Sprintf("%s (%s, %s)", d.ID, state, strings.ToLower(d.AuthenticationType)))
		}
		probes = append(probes, Probe{What: "domains", Found: strings.Join(names, ", ")})
	}

	skus, err := gc.SubscribedSkus(ctx)
	known := map[string]bool{}
	if err != nil {
		probes = append(probes, graphProbe("subscribedSkus", err))
	} else {
		var names []string
		for _, s := range skus {
			known[strings.ToLower(s.SkuPartNumber)], known[strings.ToLower(s.SkuID)] = true, true
			for _, p := range s.ServicePlans {
				known[strings.ToLower(p.ServicePlanName)], known[strings.ToLower(p.ServicePlanID)] = true, true
			}
			names = append(names, fmt.Sprintf("%s (%d of %d in use)", s.SkuPartNumber, s.ConsumedUnits, s.PrepaidUnits.Enabled))
		}
		probes = append(probes, Probe{What: "subscribedSkus", Found: strings.Join(names, ", ")})
	}

	users := Probe{What: "users", Found: "readable"}
	for _, err := range gc.ListUsers(ctx, graph.Query{Select: []string{"id"}, Top: 1}) {
		if err != nil {
			users = graphProbe("users", err)
		}
		break
	}
	probes = append(probes, users)

	names := make([]string, 0, len(samples))
	for n := range samples {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, ch := range names {
		probes = append(probes, sampleProbes(ch, samples[ch], domains != nil, verified, skus != nil, known)...)
	}
	return probes
}

// sampleProbes checks a channel's first user as it would be provisioned:
// its userPrincipalName's domain must be verified in the tenant, and its
// licence and plan names known to it.
func sampleProbes(ch string, u mapping.Object, haveDomains bool, verified map[string]bool, haveSkus bool, known map[string]bool) []Probe {
	var probes []Probe
	upn := u.String("userPrincipalName")
	if _, domain, ok := strings.Cut(upn, "@"); ok && haveDomains {
		p := Probe{Channel: ch, What: "userPrincipalName domain", Found: fmt.Sprintf("%s (of %s) is verified", domain, upn)}
		isVerified, there := verified[strings.ToLower(domain)]
		switch {
		case !there:
			p.Err = fmt.Errorf("%s (of %s) is not a domain of the tenant", domain, upn)
			p.Fix = "add and verify the domain in Entra (Settings → Domain names), or map userPrincipalName to a domain the tenant has"
		case !isVerified:
			p.Err = fmt.Errorf("%s (of %s) is not verified", domain, upn)
			p.Fix = "verify the domain in Entra (Settings → Domain names: add the TXT record it shows) before users can have it"
		}
		probes = append(probes, p)
	}
	if !haveSkus {
		return probes
	}
	var unknown []string
	for _, field := range []string{"skuId", "disabledPlans"} {
		for _, name := range u.List(field) {
			if !known[strings.ToLower(name)] {
				unknown = append(unknown, fmt.Sprintf("%s %s", field, name))
			}
		}
	}
	if len(unknown) > 0 {
		probes = append(probes, Probe{Channel: ch, What: "licences", Err: fmt.Errorf("the tenant has no %s", strings.Join(unknown, ", ")),
			Fix: "use a skuPartNumber or skuId the tenant subscribes to (listed under subscribedSkus), and its service plan names"})
	} else if len(u.List("skuId")) > 0 {
		probes = append(probes, Probe{Channel: ch, What: "licences", Found: "the first user's licence names are known to the tenant"})
	}
	return probes
}

package config

import (
	"math"
	"net/url"
	"strings"
)

// MaxTimeScale is the fastest tenant clock a trial may claim.
const MaxTimeScale = 1000

// microsoftHosts are the domains of Microsoft's own Graph and login
// endpoints, global and national clouds: a tenant there runs on real time.
var microsoftHosts = []string{"microsoft.com", "microsoft.us", "microsoftonline.com", "microsoftonline.us", "chinacloudapi.cn", "partner.microsoftonline.cn", "microsoft.de"}

// checkTimeScale accepts target.timeScale only for a tenant that is not
// Microsoft's: against real Graph a scaled client would spend its quota
// many times too fast and be throttled.
func checkTimeScale(ps *problemSet, t *Target) {
	s := t.TimeScale
	switch {
	case s == 0 || s == 1:
		return
	case math.IsNaN(s) || s < 1 || s > MaxTimeScale:
		ps.add("target.timeScale", "%v is out of range (1 to %d; 1 is real time)", s, MaxTimeScale)
	case IsMicrosoftURL(t.GraphURL):
		ps.add("target.timeScale", "%v is for trials against the fake tenant; %s is Microsoft Graph, which runs on real time (remove timeScale)", s, redactURL(t.GraphURL))
	}
}

// IsMicrosoftURL reports whether raw names one of Microsoft's own hosts
// (graph.microsoft.com, the national clouds, their login endpoints).
func IsMicrosoftURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, d := range microsoftHosts {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

package config

import (
	"go.yaml.in/yaml/v4"
)

// UnmarshalYAML starts a channel from the defaults of its directory type, so
// that what the file leaves out takes the template's value.
func (c *Channel) UnmarshalYAML(n *yaml.Node) error {
	*c = DefaultChannel(peekSourceType(n))
	type plain Channel
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	// An algorithm chosen without its attribute gets the attribute that
	// algorithm reads, not the one of the type's default algorithm.
	src := child(n, "source")
	if cd := child(src, "changeDetection"); child(cd, "attribute") == nil {
		c.Source.ChangeDetection.Attribute = changeAttribute(c.Source.ChangeDetection.Algorithm)
	}
	if as := child(src, "accountStatus"); child(as, "attribute") == nil && c.Source.AccountStatus.Algorithm == StatusAD {
		c.Source.AccountStatus.Attribute = "userAccountControl"
	}
	return nil
}

// changeAttribute is the attribute a change-detection algorithm compares.
func changeAttribute(algorithm string) string {
	switch algorithm {
	case ADUSN:
		return "uSNChanged"
	case EntryCSN:
		return "entryCSN"
	default:
		return "modifyTimestamp"
	}
}

// peekSourceType finds source.type in a channel's node without decoding it.
func peekSourceType(n *yaml.Node) string {
	src := child(n, "source")
	if src == nil {
		return ""
	}
	if t := child(src, "type"); t != nil && t.Kind == yaml.ScalarNode {
		return t.Value
	}
	return ""
}

func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// fill applies the defaults that depend on what the file says.
func (c *Config) fill() {
	if c.State.Driver == "" {
		c.State.Driver = "sqlite"
	}
	if c.State.Driver == "sqlite" && !c.State.DSN.IsSet() {
		c.State.DSN = NewSecret(DefaultStateDSN)
	}
	if c.State.FailoverGrace == 0 {
		c.State.FailoverGrace = DefaultFailoverGrace
	}
	for i := range c.Channels {
		c.Channels[i].fill()
	}
	if s := c.SSO; s != nil {
		if s.Listen == "" {
			s.Listen = DefaultSSOListen
		}
		if s.Issuer == "" {
			s.Issuer = s.BaseURL
		}
		if len(s.Protocols) == 0 {
			s.Protocols = []string{"wsfed", "saml2"}
		}
		if s.SessionLifetime == 0 {
			s.SessionLifetime = DefaultSessionLifetime
		}
		if len(s.ReplyURLs) == 0 {
			s.ReplyURLs = []string{"https://login.microsoftonline.com/login.srf"}
		}
	}
	if c.Console != nil && c.Console.Listen == "" {
		c.Console.Listen = DefaultConsoleListen
	}
}

func (ch *Channel) fill() {
	src := &ch.Source
	if g := src.Groups; g != nil && g.GroupDN == "" && g.Filter == "" {
		g.Filter = "(objectClass=" + src.GroupObjectClass + ")"
	}
	for _, m := range []map[string]FieldMapping{ch.Mapping.User, ch.Mapping.Group} {
		for k, f := range m {
			if f.IsZero() && !f.CreateOnly && !f.Required {
				delete(m, k)
			}
		}
	}
}

// Package examples holds the demo organisation, embedded so that the
// o365prov binary runs its demo from anywhere.
package examples

import _ "embed"

// ContosoLDIF is examples/contoso.ldif: the generated organisation the demo
// serves from its embedded directory.
//
//go:embed contoso.ldif
var ContosoLDIF []byte

package pipeline

import (
	"switchboard"
	"switchboard/whatsapp"
)

// Graph picks the Graph API client for a channel: Meta's for real channels, the built-in fake for
// sandbox channels.
type Graph struct {
	Meta    *whatsapp.Client
	Sandbox *whatsapp.Client
}

// For returns the client for ch.
func (g *Graph) For(ch *switchboard.Channel) *whatsapp.Client {
	if ch.Sandbox && g.Sandbox != nil {
		return g.Sandbox
	}
	return g.Meta
}

package whatsapp

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// messageText picks or builds Message.Text: the body of a text, the caption of media, the tapped title
// of a reply, or a one-line summary for the types that have no text of their own, so an inbox always
// has something to show.
func messageText(m *Message, part json.RawMessage) string {
	switch {
	case m.Type == TypeText:
		var w struct {
			Body flexString `json:"body"`
		}
		decodeTolerant(part, &w)
		return string(w.Body)
	case m.Media != nil:
		return m.Media.Caption
	case m.Interactive != nil:
		if m.Interactive.Type == InteractiveFlowReply {
			return m.Interactive.FlowBody
		}
		return m.Interactive.Title
	case m.Button != nil:
		return firstNonEmpty(m.Button.Text, m.Button.Payload)
	case m.Location != nil:
		return m.Location.summary()
	case len(m.SharedContacts) > 0:
		return contactsSummary(m.SharedContacts)
	case m.Order != nil:
		return m.Order.summary()
	case m.System != nil:
		return m.System.summary()
	}
	return ""
}

// summary renders a location as "Location: name, address (lat, long)".
func (l *Location) summary() string {
	coords := formatFloat(l.Latitude) + ", " + formatFloat(l.Longitude)
	var parts []string
	for _, p := range []string{l.Name, l.Address} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "Location: " + coords
	}
	return "Location: " + strings.Join(parts, ", ") + " (" + coords + ")"
}

// DisplayName returns the best name a contact card offers: the formatted name, else the parts, else
// the company.
func (c SharedContact) DisplayName() string {
	if c.Name.FormattedName != "" {
		return c.Name.FormattedName
	}
	var parts []string
	for _, p := range []string{c.Name.Prefix, c.Name.FirstName, c.Name.MiddleName, c.Name.LastName, c.Name.Suffix} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, " ")
	}
	return c.Org.Company
}

// contactsSummary renders "Contact: name, phone" for one card and "Contacts: a, b" for several.
func contactsSummary(cards []SharedContact) string {
	if len(cards) == 1 {
		c := cards[0]
		parts := []string{firstNonEmpty(c.DisplayName(), "(no name)")}
		if len(c.Phones) > 0 && c.Phones[0].Phone != "" {
			parts = append(parts, c.Phones[0].Phone)
		} else if len(c.Emails) > 0 && c.Emails[0].Email != "" {
			parts = append(parts, c.Emails[0].Email)
		}
		return "Contact: " + strings.Join(parts, ", ")
	}
	names := make([]string, 0, len(cards))
	for _, c := range cards {
		names = append(names, firstNonEmpty(c.DisplayName(), "(no name)"))
	}
	return "Contacts: " + strings.Join(names, ", ")
}

// summary renders an order as "Order: 2 × di9ozbzfi4 (30 USD), 1 × nqryix03ez (25 USD)" and its note.
func (o *Order) summary() string {
	lines := make([]string, 0, len(o.Items))
	for _, it := range o.Items {
		line := fmt.Sprintf("%d × %s", it.Quantity, it.ProductRetailerID)
		if it.Currency != "" || it.ItemPrice != 0 {
			line += " (" + strings.TrimSpace(formatFloat(it.ItemPrice)+" "+it.Currency) + ")"
		}
		lines = append(lines, line)
	}
	s := "Order: " + strings.Join(lines, ", ")
	if len(lines) == 0 {
		s = "Order"
	}
	if o.Text != "" {
		s += "\n" + o.Text
	}
	return s
}

// summary renders a system change: Meta's own body when present, else a generated sentence.
func (s *SystemChange) summary() string {
	if s.Body != "" {
		return s.Body
	}
	switch {
	case s.NewWaID != "":
		return "User changed number to " + s.NewWaID
	case s.Type == SystemCustomerIdentityChanged:
		return "User's security code changed"
	}
	return "System message"
}

func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

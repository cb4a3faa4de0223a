package whatsapp

import "encoding/json"

// messageWire is a messages[] item with every part kept raw, so each part decodes on its own and a
// malformed one costs only itself.
type messageWire struct {
	ID          flexString      `json:"id"`
	From        flexString      `json:"from"`
	FromUserID  flexString      `json:"from_user_id"`
	Type        flexString      `json:"type"`
	Timestamp   flexTime        `json:"timestamp"`
	Context     json.RawMessage `json:"context"`
	Referral    json.RawMessage `json:"referral"`
	Errors      json.RawMessage `json:"errors"`
	Text        json.RawMessage `json:"text"`
	Image       json.RawMessage `json:"image"`
	Audio       json.RawMessage `json:"audio"`
	Video       json.RawMessage `json:"video"`
	Document    json.RawMessage `json:"document"`
	Sticker     json.RawMessage `json:"sticker"`
	Location    json.RawMessage `json:"location"`
	Contacts    json.RawMessage `json:"contacts"`
	Interactive json.RawMessage `json:"interactive"`
	Button      json.RawMessage `json:"button"`
	Reaction    json.RawMessage `json:"reaction"`
	Order       json.RawMessage `json:"order"`
	System      json.RawMessage `json:"system"`
	Revoke      json.RawMessage `json:"revoke"`
	Unsupported json.RawMessage `json:"unsupported"`
}

// part returns the object named after the message type (unsupported for "unknown" too).
func (w *messageWire) part(typ string) json.RawMessage {
	switch typ {
	case TypeText:
		return w.Text
	case TypeImage:
		return w.Image
	case TypeAudio:
		return w.Audio
	case TypeVideo:
		return w.Video
	case TypeDocument:
		return w.Document
	case TypeSticker:
		return w.Sticker
	case TypeLocation:
		return w.Location
	case TypeContacts:
		return w.Contacts
	case TypeInteractive:
		return w.Interactive
	case TypeButton:
		return w.Button
	case TypeReaction:
		return w.Reaction
	case TypeOrder:
		return w.Order
	case TypeSystem:
		return w.System
	case TypeRevoke:
		return w.Revoke
	case TypeUnsupported, TypeUnknown:
		return w.Unsupported
	}
	return nil
}

// parseMessage normalises one messages[] item; see Message for what each type fills.
func parseMessage(raw json.RawMessage) Message {
	var w messageWire
	decodeTolerant(raw, &w)
	m := Message{
		ID: string(w.ID), From: string(w.From), FromUserID: string(w.FromUserID), Type: string(w.Type),
		Timestamp: w.Timestamp.Time(), Errors: parseErrors(w.Errors), Raw: raw,
	}
	var ctx contextWire
	if decodeTolerant(w.Context, &ctx) {
		m.Context = &Context{
			From: string(ctx.From), ID: string(ctx.ID),
			Forwarded: bool(ctx.Forwarded), FrequentlyForwarded: bool(ctx.FrequentlyForwarded),
		}
		if p := ctx.ReferredProduct; p != nil {
			m.Context.ReferredProduct = &ReferredProduct{string(p.CatalogID), string(p.ProductRetailerID)}
		}
	}
	var ref referralWire
	if decodeTolerant(w.Referral, &ref) {
		m.Referral = &Referral{
			SourceURL: string(ref.SourceURL), SourceID: string(ref.SourceID), SourceType: string(ref.SourceType),
			Body: string(ref.Body), Headline: string(ref.Headline), MediaType: string(ref.MediaType),
			ImageURL: string(ref.ImageURL), VideoURL: string(ref.VideoURL), ThumbnailURL: string(ref.ThumbnailURL),
			CTWAClid: string(ref.CTWAClid), WelcomeMessage: string(ref.WelcomeMessage.Text),
		}
	}
	part := w.part(m.Type)
	decodeTypedPart(&m, part)
	m.Text = messageText(&m, part)
	return m
}

// decodeTypedPart fills the part of m named by its type from that part's JSON.
func decodeTypedPart(m *Message, part json.RawMessage) {
	switch m.Type {
	case TypeImage, TypeAudio, TypeVideo, TypeDocument, TypeSticker:
		var w mediaWire
		if decodeTolerant(part, &w) {
			m.Media = &Media{
				ID: string(w.ID), MimeType: string(w.MimeType), SHA256: string(w.SHA256),
				Filename: string(w.Filename), Caption: string(w.Caption), Voice: bool(w.Voice),
				Animated: bool(w.Animated), URL: string(w.URL),
			}
		}
	case TypeLocation:
		var w locationWire
		if decodeTolerant(part, &w) {
			m.Location = &Location{
				Latitude: float64(w.Latitude), Longitude: float64(w.Longitude),
				Name: string(w.Name), Address: string(w.Address), URL: string(w.URL),
			}
		}
	case TypeContacts:
		for _, w := range decodeList[sharedContactWire](part) {
			m.SharedContacts = append(m.SharedContacts, w.contact())
		}
	case TypeInteractive:
		var w interactiveWire
		if decodeTolerant(part, &w) {
			m.Interactive = w.reply()
		}
	case TypeButton:
		var w struct{ Payload, Text flexString }
		if decodeTolerant(part, &w) {
			m.Button = &ButtonReply{Payload: string(w.Payload), Text: string(w.Text)}
		}
	case TypeReaction:
		var w struct {
			MessageID flexString `json:"message_id"`
			Emoji     flexString `json:"emoji"`
		}
		if decodeTolerant(part, &w) {
			m.Reaction = &Reaction{MessageID: string(w.MessageID), Emoji: string(w.Emoji), Removed: w.Emoji == ""}
		}
	case TypeOrder:
		var w orderWire
		if decodeTolerant(part, &w) {
			m.Order = &Order{CatalogID: string(w.CatalogID), Text: string(w.Text)}
			for _, it := range w.Items {
				m.Order.Items = append(m.Order.Items, OrderItem{
					ProductRetailerID: string(it.ProductRetailerID), Quantity: int(it.Quantity),
					ItemPrice: float64(it.ItemPrice), Currency: string(it.Currency),
				})
			}
		}
	case TypeSystem:
		var w systemWire
		if decodeTolerant(part, &w) {
			m.System = w.change()
		}
	case TypeRevoke:
		var w struct {
			OriginalMessageID flexString `json:"original_message_id"`
		}
		if decodeTolerant(part, &w) {
			m.Revoke = &Revoke{OriginalMessageID: string(w.OriginalMessageID)}
		}
	case TypeUnsupported, TypeUnknown:
		var w struct{ Type flexString }
		if decodeTolerant(part, &w) {
			m.UnsupportedType = string(w.Type)
		}
	}
}

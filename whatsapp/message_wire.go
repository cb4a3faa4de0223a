package whatsapp

import "encoding/json"

// Wire shapes of the inbound message objects. Every scalar is a flex type; each object is decoded on its
// own by parseMessage, so a malformed context or referral does not cost the message its text.

type mediaWire struct {
	ID       flexString `json:"id"`
	MimeType flexString `json:"mime_type"`
	SHA256   flexString `json:"sha256"`
	Filename flexString `json:"filename"`
	Caption  flexString `json:"caption"`
	Voice    flexBool   `json:"voice"`
	Animated flexBool   `json:"animated"`
	URL      flexString `json:"url"`
}

type locationWire struct {
	Latitude  flexFloat  `json:"latitude"`
	Longitude flexFloat  `json:"longitude"`
	Name      flexString `json:"name"`
	Address   flexString `json:"address"`
	URL       flexString `json:"url"`
}

type sharedContactWire struct {
	Name struct {
		FormattedName flexString `json:"formatted_name"`
		FirstName     flexString `json:"first_name"`
		LastName      flexString `json:"last_name"`
		MiddleName    flexString `json:"middle_name"`
		Prefix        flexString `json:"prefix"`
		Suffix        flexString `json:"suffix"`
	} `json:"name"`
	Phones    json.RawMessage `json:"phones"`
	Emails    json.RawMessage `json:"emails"`
	Addresses json.RawMessage `json:"addresses"`
	URLs      json.RawMessage `json:"urls"`
	Org       struct {
		Company    flexString `json:"company"`
		Department flexString `json:"department"`
		Title      flexString `json:"title"`
	} `json:"org"`
	Birthday flexString `json:"birthday"`
}

type phoneWire struct {
	Phone flexString `json:"phone"`
	WaID  flexString `json:"wa_id"`
	Type  flexString `json:"type"`
}

type emailWire struct {
	Email flexString `json:"email"`
	Type  flexString `json:"type"`
}

type addressWire struct {
	Street      flexString `json:"street"`
	City        flexString `json:"city"`
	State       flexString `json:"state"`
	Zip         flexString `json:"zip"`
	Country     flexString `json:"country"`
	CountryCode flexString `json:"country_code"`
	Type        flexString `json:"type"`
}

type urlWire struct {
	URL  flexString `json:"url"`
	Type flexString `json:"type"`
}

type interactiveWire struct {
	Type        flexString `json:"type"`
	ButtonReply *struct {
		ID    flexString `json:"id"`
		Title flexString `json:"title"`
	} `json:"button_reply"`
	ListReply *struct {
		ID          flexString `json:"id"`
		Title       flexString `json:"title"`
		Description flexString `json:"description"`
	} `json:"list_reply"`
	NfmReply *struct {
		Name         flexString `json:"name"`
		Body         flexString `json:"body"`
		ResponseJSON flexText   `json:"response_json"`
	} `json:"nfm_reply"`
}

type contextWire struct {
	From                flexString `json:"from"`
	ID                  flexString `json:"id"`
	Forwarded           flexBool   `json:"forwarded"`
	FrequentlyForwarded flexBool   `json:"frequently_forwarded"`
	ReferredProduct     *struct {
		CatalogID         flexString `json:"catalog_id"`
		ProductRetailerID flexString `json:"product_retailer_id"`
	} `json:"referred_product"`
}

type referralWire struct {
	SourceURL      flexString `json:"source_url"`
	SourceID       flexString `json:"source_id"`
	SourceType     flexString `json:"source_type"`
	Body           flexString `json:"body"`
	Headline       flexString `json:"headline"`
	MediaType      flexString `json:"media_type"`
	ImageURL       flexString `json:"image_url"`
	VideoURL       flexString `json:"video_url"`
	ThumbnailURL   flexString `json:"thumbnail_url"`
	CTWAClid       flexString `json:"ctwa_clid"`
	WelcomeMessage struct {
		Text flexString `json:"text"`
	} `json:"welcome_message"`
}

type orderWire struct {
	CatalogID flexString `json:"catalog_id"`
	Text      flexString `json:"text"`
	Items     []struct {
		ProductRetailerID flexString `json:"product_retailer_id"`
		Quantity          flexInt    `json:"quantity"`
		ItemPrice         flexFloat  `json:"item_price"`
		Currency          flexString `json:"currency"`
	} `json:"product_items"`
}

type systemWire struct {
	Body     flexString `json:"body"`
	WaID     flexString `json:"wa_id"`
	NewWaID  flexString `json:"new_wa_id"`
	Type     flexString `json:"type"`
	Customer flexString `json:"customer"`
	Identity flexString `json:"identity"`
}

func (w sharedContactWire) contact() SharedContact {
	c := SharedContact{
		Name: ContactName{
			FormattedName: string(w.Name.FormattedName), FirstName: string(w.Name.FirstName),
			LastName: string(w.Name.LastName), MiddleName: string(w.Name.MiddleName),
			Prefix: string(w.Name.Prefix), Suffix: string(w.Name.Suffix),
		},
		Org:      ContactOrg{string(w.Org.Company), string(w.Org.Department), string(w.Org.Title)},
		Birthday: string(w.Birthday),
	}
	for _, p := range decodeList[phoneWire](w.Phones) {
		c.Phones = append(c.Phones, ContactPhone{string(p.Phone), string(p.WaID), string(p.Type)})
	}
	for _, e := range decodeList[emailWire](w.Emails) {
		c.Emails = append(c.Emails, ContactEmail{string(e.Email), string(e.Type)})
	}
	for _, a := range decodeList[addressWire](w.Addresses) {
		c.Addresses = append(c.Addresses, ContactAddress{
			string(a.Street), string(a.City), string(a.State), string(a.Zip),
			string(a.Country), string(a.CountryCode), string(a.Type),
		})
	}
	for _, u := range decodeList[urlWire](w.URLs) {
		c.URLs = append(c.URLs, ContactURL{string(u.URL), string(u.Type)})
	}
	return c
}

func (w interactiveWire) reply() *InteractiveReply {
	r := &InteractiveReply{Type: string(w.Type)}
	switch {
	case w.ButtonReply != nil && (r.Type == "" || r.Type == InteractiveButtonReply):
		r.Type, r.ID, r.Title = InteractiveButtonReply, string(w.ButtonReply.ID), string(w.ButtonReply.Title)
	case w.ListReply != nil && (r.Type == "" || r.Type == InteractiveListReply):
		r.Type, r.ID, r.Title = InteractiveListReply, string(w.ListReply.ID), string(w.ListReply.Title)
		r.Description = string(w.ListReply.Description)
	case w.NfmReply != nil && (r.Type == "" || r.Type == InteractiveFlowReply):
		r.Type, r.FlowName, r.FlowBody = InteractiveFlowReply, string(w.NfmReply.Name), string(w.NfmReply.Body)
		r.FlowResponseJSON = string(w.NfmReply.ResponseJSON)
	}
	return r
}

func (w systemWire) change() *SystemChange {
	s := &SystemChange{
		Type: string(w.Type), Body: string(w.Body), NewWaID: firstNonEmpty(string(w.WaID), string(w.NewWaID)),
		Customer: string(w.Customer), Identity: string(w.Identity),
	}
	if s.Type == "" {
		switch {
		case w.WaID != "":
			s.Type = SystemUserChangedNumber
		case w.NewWaID != "":
			s.Type = SystemCustomerChangedNumber
		}
	}
	return s
}

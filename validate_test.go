package switchboard

import (
	"errors"
	"testing"
	"time"
)

func validChannel() Channel {
	return Channel{
		Type: ChannelTypeWhatsApp, Name: "Support", PhoneNumber: "+14155550123", PhoneNumberID: "106540352242922",
		BusinessAccountID: "102290129340398", APIKey: "EAAG-token", AppSecret: "secret", VerifyToken: "0123456789abcdef",
		AssignmentMode: AssignByLoad, DefaultCapacity: 10, Settings: DefaultChannelSettings(),
	}
}

func TestChannelValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Channel)
		field  string
	}{
		{"valid", func(*Channel) {}, ""},
		{"phone not E.164", func(c *Channel) { c.PhoneNumber = "0612345678" }, "phone_number"},
		{"phone number id not numeric", func(c *Channel) { c.PhoneNumberID = "abc" }, "phone_number_id"},
		{"waba id missing", func(c *Channel) { c.BusinessAccountID = "" }, "business_account_id"},
		{"api key missing", func(c *Channel) { c.APIKey = " " }, "api_key"},
		{"app secret missing", func(c *Channel) { c.AppSecret = "" }, "app_secret"},
		{"bad mode", func(c *Channel) { c.AssignmentMode = "random" }, "assignment_mode"},
		{"greeting on without text", func(c *Channel) { c.Settings.Greeting = GreetingSettings{Enabled: true} }, "settings.greeting.text"},
		{"keyword twice", func(c *Channel) {
			c.Settings.Keywords = append(c.Settings.Keywords, KeywordRule{Category: KeywordHelp, Keywords: []string{"stop"}})
		}, "settings.keywords.3.keywords"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validChannel()
			tt.mutate(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if ErrorCode(err) != EINVALID {
				t.Fatalf("code = %q, want invalid (%v)", ErrorCode(err), err)
			}
			if _, ok := ErrorFields(err)[tt.field]; !ok {
				t.Fatalf("want a problem on %q, got %v", tt.field, ErrorFields(err))
			}
		})
	}
}

func TestRoutingRuleValidate(t *testing.T) {
	ok := RoutingRule{Name: "VIP", Conditions: []RuleCondition{{Field: CondPhone, Op: OpPrefix, Values: []string{"+33"}}}, Target: RuleTarget{Kind: TargetAgent, ID: 1}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid rule rejected: %v", err)
	}
	tests := []struct {
		name  string
		cond  RuleCondition
		field string
	}{
		{"unknown field", RuleCondition{Field: "mood", Op: OpIs, Values: []string{"x"}}, "conditions.0.field"},
		{"wrong op", RuleCondition{Field: CondText, Op: OpPrefix, Values: []string{"x"}}, "conditions.0.op"},
		{"bad regexp", RuleCondition{Field: CondText, Op: OpMatches, Values: []string{"("}}, "conditions.0.values"},
		{"between needs two", RuleCondition{Field: CondTime, Op: OpBetween, Values: []string{"09:00"}}, "conditions.0.values"},
		{"bad weekday", RuleCondition{Field: CondWeekday, Op: OpIn, Values: []string{"someday"}}, "conditions.0.values"},
		{"bad hours value", RuleCondition{Field: CondBusinessHours, Op: OpIs, Values: []string{"maybe"}}, "conditions.0.values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			r.Conditions = []RuleCondition{tt.cond}
			if _, has := ErrorFields(r.Validate())[tt.field]; !has {
				t.Fatalf("want a problem on %q, got %v", tt.field, r.Validate())
			}
		})
	}
}

func TestAgentAndContactValidate(t *testing.T) {
	a := Agent{Name: "Ada", Email: "ada@example.com", Role: RoleAgent}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	a.Email = "Ada <ada@example.com>"
	if _, ok := ErrorFields(a.Validate())["email"]; !ok {
		t.Fatal("display-name email accepted")
	}
	if ValidatePassword("password", "short") == nil {
		t.Fatal("short password accepted")
	}
	c := Contact{BSUID: "US.13491208655302741918"}
	if err := c.Validate(); err != nil {
		t.Fatalf("BSUID-only contact rejected: %v", err)
	}
	c = Contact{}
	if _, ok := ErrorFields(c.Validate())["wa_id"]; !ok {
		t.Fatal("contact without any id accepted")
	}
}

func TestErrorHelpers(t *testing.T) {
	base := Errorf(ENOTFOUND, "Conversation %d not found.", 7)
	wrapped := errors.Join(errors.New("context"), base)
	if ErrorCode(wrapped) != ENOTFOUND || ErrorMessage(wrapped) != "Conversation 7 not found." {
		t.Fatalf("code/message lost through wrapping: %q %q", ErrorCode(wrapped), ErrorMessage(wrapped))
	}
	if ErrorCode(errors.New("boom")) != EINTERNAL || ErrorCode(nil) != "" {
		t.Fatal("plain errors must be internal, nil must have no code")
	}
	if ErrorMessage(errors.New("secret detail")) == "secret detail" {
		t.Fatal("internal error details must not become the public message")
	}
}

func TestConversationWindow(t *testing.T) {
	last := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	c := Conversation{LastInboundAt: &last}
	c.SetWindow()
	if !c.WindowOpen(last.Add(23*time.Hour)) || c.WindowOpen(last.Add(24*time.Hour)) {
		t.Fatal("window must be open for exactly 24 hours")
	}
	if !c.WindowExpiresAt.Equal(last.Add(24 * time.Hour)) {
		t.Fatal("window_expires_at wrong")
	}
}

func TestMessageValidate(t *testing.T) {
	ok := Message{ConversationID: 1, Direction: Outbound, Sender: SenderAgent, Type: TypeText, Text: "Your order left today."}
	for _, tc := range []struct {
		name  string
		edit  func(m *Message)
		field string
	}{
		{"valid", func(*Message) {}, ""},
		{"blank text", func(m *Message) { m.Text = "  " }, "text"},
		{"NUL in the text (PostgreSQL cannot store it)", func(m *Message) { m.Text = "Your\x00 order" }, "text"},
		{"a private text", func(m *Message) { m.Private = true }, "private"},
		{"an inbound message from an agent", func(m *Message) { m.Direction = Inbound }, "sender"},
	} {
		m := ok
		tc.edit(&m)
		err := m.Validate()
		if _, got := ErrorFields(err)[tc.field]; (tc.field == "" && err != nil) || (tc.field != "" && !got) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

package main

import (
	"fmt"
	"net/http"
	"testing"

	"switchboard/whatsapp/graphtest"
)

// TestQueueDrainsWhenSomeoneBecomesEligible: a conversation nobody can take waits, and is assigned the
// moment someone becomes eligible: the agent comes online, their capacity is raised, they resolve a
// conversation, they come back from away (here through REST, as the app does when its socket is
// down), they hand a conversation over. (Joining the channel is TestQueueDrainsWhenAMemberJoins.)
func TestQueueDrainsWhenSomeoneBecomesEligible(t *testing.T) {
	eachDatabase(t, func(t *testing.T, url string) {
		e := startE2E(t, url)
		me := e.adminID()
		members := fmt.Sprintf("/api/v1/channels/%d/members", e.chID)
		e.call("POST", members, map[string]any{"agent_id": me, "capacity": 1}, http.StatusCreated, nil)
		customer := func(waID, name string) int64 {
			body, _ := e.fake.Inbound(e.number.PhoneNumberID, graphtest.TextMessage(waID, name, "Hello?"))
			e.customerSays(body)
			return e.conversation(waID)
		}
		waits := func(why string, conv int64) {
			e.eventually(why, func() bool {
				c := e.conversationByID(conv)
				return c.Assignee == nil && c.WaitingSince != nil
			})
		}
		mine := func(why string, conv int64) {
			e.eventually(why, func() bool {
				c := e.conversationByID(conv)
				return c.Assignee != nil && c.Assignee.ID == me
			})
		}
		resolve := func(conv int64) {
			e.call("POST", fmt.Sprintf("/api/v1/conversations/%d/resolve", conv), nil, http.StatusOK, nil)
		}

		ana := customer("33600000001", "Ana")
		waits("Ana to wait: the only member is offline", ana)
		_, closeWS := e.connectAgent()
		defer closeWS()
		mine("Ana to go to the member who came online", ana)

		ben := customer("33600000002", "Ben")
		waits("Ben to wait: the member is at capacity", ben)
		e.call("POST", members, map[string]any{"agent_id": me, "capacity": 2}, http.StatusCreated, nil)
		mine("Ben to go to the member whose capacity rose", ben)

		cleo := customer("33600000003", "Cleo")
		waits("Cleo to wait: capacity full again", cleo)
		resolve(ana)
		mine("Cleo to take the place Ana's resolved conversation left", cleo)

		e.call("PATCH", "/api/v1/me", map[string]any{"availability": "away"}, http.StatusOK, nil)
		resolve(ben)
		dan := customer("33600000004", "Dan")
		waits("Dan to wait: the member is away", dan)
		e.call("PATCH", "/api/v1/me", map[string]any{"availability": "available"}, http.StatusOK, nil)
		mine("Dan to go to the member back from away", dan)

		// Handing a conversation over to a colleague (offline: a transfer needs no presence) frees a place.
		var bo struct {
			ID int64 `json:"id"`
		}
		e.call("POST", "/api/v1/agents", map[string]any{"name": "Bo", "email": "bo@example.com", "password": "bo-password-123", "role": "agent"},
			http.StatusCreated, &bo)
		e.call("POST", members, map[string]any{"agent_id": bo.ID, "capacity": 5}, http.StatusCreated, nil)
		eve := customer("33600000005", "Eve")
		waits("Eve to wait: the member is full and the colleague offline", eve)
		e.call("POST", fmt.Sprintf("/api/v1/conversations/%d/assign", cleo), map[string]any{"agent_id": bo.ID}, http.StatusOK, nil)
		mine("Eve to take the place Cleo's handed-over conversation left", eve)
	})
}

// Package switchboard is the domain of Switchboard, a customer-support inbox for WhatsApp Business:
// the nouns (Channel, Contact, Conversation, Message, Agent, RoutingRule, BusinessHours, Job, Event...),
// their validation, the one Error type with its codes, and the Clock. It imports only the standard
// library; storage, the Graph API, HTTP and websockets live in their own packages and talk through the
// types declared here.
package switchboard

package whatsapp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// codeInfo is what Meta's error-code table says about a code. HTTP statuses are plausible choices for
// the fake, not documented facts: callers must branch on the code.
type codeInfo struct {
	title     string
	details   string
	status    int
	transient bool
}

// codeTable lists the Meta error codes a helpdesk meets (Meta's "error codes" reference).
var codeTable = map[int]codeInfo{
	0:      {"AuthException", "We were unable to authenticate the app user.", http.StatusUnauthorized, false},
	1:      {"API Unknown", "Invalid request or possible server error.", http.StatusInternalServerError, true},
	2:      {"API Service", "Temporary due to downtime or due to being overloaded.", http.StatusServiceUnavailable, true},
	3:      {"API Method", "Capability or permissions issue.", http.StatusForbidden, false},
	4:      {"API Too Many Calls", "The app has reached its API call rate limit.", http.StatusTooManyRequests, false},
	10:     {"API Permission Denied", "Permission is either not granted or has been removed.", http.StatusForbidden, false},
	100:    {"Invalid parameter", "A parameter is invalid, unsupported or misspelled.", http.StatusBadRequest, false},
	190:    {"Access token has expired", "Error validating access token: the session is invalid or has expired.", http.StatusUnauthorized, false},
	200:    {"API Permission", "Permission is either not granted or has been removed.", http.StatusForbidden, false},
	368:    {"Temporarily blocked for policies violations", "The WhatsApp Business Account is restricted for violating a platform policy.", http.StatusForbidden, false},
	80007:  {"Rate limit issues", "The WhatsApp Business Account has reached its rate limit.", http.StatusTooManyRequests, false},
	130429: {"Rate limit hit", "Cloud API message throughput has been reached.", http.StatusTooManyRequests, false},
	130472: {"User's number is part of an experiment", "Message was not sent as part of an experiment.", http.StatusBadRequest, false},
	130497: {"Business account is restricted from messaging users in this country", "The business cannot message users in this country.", http.StatusForbidden, false},
	131000: {"Something went wrong", "Message failed to send because of an unknown error.", http.StatusInternalServerError, false},
	131005: {"Access denied", "Permission is either not granted or has been removed.", http.StatusForbidden, false},
	131008: {"Required parameter is missing", "The request is missing a required parameter.", http.StatusBadRequest, false},
	131009: {"Parameter value is not valid", "One or more parameter values are invalid.", http.StatusBadRequest, false},
	131016: {"Service unavailable", "A service is temporarily unavailable.", http.StatusServiceUnavailable, true},
	131021: {"Recipient cannot be sender", "Sender and recipient phone number is the same.", http.StatusBadRequest, false},
	131026: {"Message undeliverable", "Unable to deliver message: the recipient is not on WhatsApp, has not accepted the terms, uses an old app or blocked the business.", http.StatusBadRequest, false},
	131031: {"Business Account locked", "The business account has been locked.", http.StatusForbidden, false},
	131042: {"Business eligibility payment issue", "There was an error related to the payment method.", http.StatusBadRequest, false},
	131045: {"Incorrect certificate", "Message failed to send due to a phone number registration error.", http.StatusBadRequest, false},
	131047: {"Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number.", http.StatusBadRequest, false},
	131048: {"Spam rate limit hit", "Message failed to send because there are restrictions on how many messages can be sent from this phone number.", http.StatusBadRequest, false},
	131049: {"Meta chose not to deliver", "This message was not delivered to maintain healthy ecosystem engagement.", http.StatusBadRequest, false},
	131050: {"Unable to deliver the message", "The recipient has chosen to stop receiving marketing messages from the business.", http.StatusBadRequest, false},
	131051: {"Unsupported message type", "Message type is currently not supported.", http.StatusBadRequest, false},
	131052: {"Media download error", "Unable to download the media sent by the user.", http.StatusBadRequest, false},
	131053: {"Media upload error", "Unable to upload the media used in the message.", http.StatusBadRequest, false},
	131056: {"(Business Account, Consumer Account) pair rate limit hit", "Too many messages sent from this phone number to the same recipient in a short period of time.", http.StatusTooManyRequests, false},
	131057: {"Account in maintenance mode", "The business account is in maintenance mode, e.g. during a throughput upgrade.", http.StatusServiceUnavailable, false},
	131063: {"Marketing messages disabled", "Marketing messages cannot be sent through the Cloud API for this business.", http.StatusBadRequest, false},
	131064: {"Marketing messages limited", "Marketing messages are limited for this business after classification violations.", http.StatusBadRequest, false},
	132000: {"Number of parameters does not match the expected number of params", "The number of variable parameter values does not match the number of variables in the template.", http.StatusBadRequest, false},
	132001: {"Template does not exist", "The template does not exist in the specified language or has not been approved.", http.StatusBadRequest, false},
	132005: {"Template Hydrated Text Too Long", "Translated text is too long.", http.StatusBadRequest, false},
	132007: {"Template Format Character Policy Violated", "Template content violates a WhatsApp policy.", http.StatusBadRequest, false},
	132012: {"Template Parameter Format Mismatch", "Variable parameter values are formatted incorrectly.", http.StatusBadRequest, false},
	132015: {"Template is Paused", "The template is paused due to low quality.", http.StatusBadRequest, false},
	132016: {"Template is Disabled", "The template has been paused too many times and is permanently disabled.", http.StatusBadRequest, false},
	133004: {"Server Temporarily Unavailable", "Cloud API is temporarily unavailable.", http.StatusServiceUnavailable, true},
	133010: {"Phone number Not Registered", "The phone number is not registered on the WhatsApp Business Platform.", http.StatusBadRequest, false},
}

// ErrorForCode returns the error Meta answers with for code, as a *GraphError whose Body is Meta's
// JSON: the title from Meta's table, "(#code) title" as the message, details, the error_subcode Meta
// still sends (2494055 with 130429), a plausible HTTP status and is_transient where Meta sets it.
// Codes 200–299 share the permission entry; an unknown code gets a generic title and HTTP 400.
func ErrorForCode(code int) *GraphError {
	info, ok := codeTable[code]
	if !ok && code > 200 && code <= 299 {
		info, ok = codeTable[200], true
	}
	if !ok {
		info = codeInfo{title: fmt.Sprintf("Error %d", code), status: http.StatusBadRequest}
	}
	msg := fmt.Sprintf("(#%d) %s", code, info.title)
	if code == 190 {
		msg = info.details // Meta's 190 message is the validation text itself, without a "(#190)" prefix.
	}
	ge := &GraphError{
		HTTPStatus: info.status, Code: code, Type: "OAuthException", Message: msg,
		Title: info.title, Details: info.details, IsTransient: info.transient,
	}
	if code == 130429 {
		ge.Subcode = 2494055 // deprecated since v16, still sent with the throughput error
	}
	return ge
}

// RetryAfter suggests how long to wait before attempt+1, where attempt counts the attempts made so far
// (1 after the first failure). It returns 0 for errors that should not be retried. Waits carry ±20%
// jitter so a fleet of workers does not retry in step:
//
//	131056 pair rate limit      4^attempt seconds (4 s, 16 s, 64 s, …), at most 15 minutes
//	4, 80007 app/WABA limits    1, 2, 4, … minutes, at most 30 minutes
//	131057 maintenance          about a minute
//	130429 throughput           1, 2, 4, … seconds, at most a minute
//	anything else retryable     2, 4, 8, … seconds, at most 15 seconds (5xx, timeouts, 131000: the end
//	                            of an outage is noticed within 15 s; senders give such jobs more attempts)
func RetryAfter(err error, attempt int) time.Duration {
	if Classify(err) != ClassRetry {
		return 0
	}
	attempt = max(1, attempt)
	var wait time.Duration
	switch codeOf(err) {
	case 131056:
		wait = min(time.Duration(1<<(2*min(attempt, 5)))*time.Second, 15*time.Minute)
	case 4, 80007:
		wait = min(time.Minute<<min(attempt-1, 5), 30*time.Minute)
	case 131057:
		wait = time.Minute
	case 130429:
		wait = min(time.Second<<min(attempt-1, 6), time.Minute)
	default:
		wait = min(2*time.Second<<min(attempt-1, 8), 15*time.Second)
	}
	return time.Duration(float64(wait) * (0.8 + 0.4*rand.Float64()))
}

// codeOf returns the Meta code carried by err, or 0.
func codeOf(err error) int {
	var ge *GraphError
	if errors.As(err, &ge) {
		return ge.Code
	}
	code, _ := webhookErrorCode(err)
	return code
}

package switchboard

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CSATSendJobKind is the kind of the job that sends the survey of one resolution. The resolve
// transaction enqueues it (keyed to the conversation), so a survey is neither lost nor sent twice.
const CSATSendJobKind = "csat.send"

// CSATSendJob is the payload of a CSAT send job: the conversation, its resolution count after the
// resolve, and the human agent who owned it (nil for nobody or the AI agent).
type CSATSendJob struct {
	ConversationID int64  `json:"conversation_id"`
	Resolution     int    `json:"resolution"`
	AgentID        *int64 `json:"agent_id"`
}

// CSATExpireJobKind is the kind of the delayed job that expires an unanswered CSAT survey.
const CSATExpireJobKind = "csat.expire"

// CSATExpireJob is the payload of a CSAT expiry job.
type CSATExpireJob struct {
	SurveyID int64 `json:"survey_id"`
}

// CSATRatingLabels name the ratings 1–5 (index 0 is unused).
var CSATRatingLabels = [6]string{"", "Very poor", "Poor", "Okay", "Good", "Excellent"}

// CSATRatingTitle returns the title of a rating's choice, e.g. "5 – Excellent" (at most 24
// characters, WhatsApp's limit for a list row title).
func CSATRatingTitle(rating int) string {
	if rating < 1 || rating > 5 {
		return ""
	}
	return strconv.Itoa(rating) + " – " + CSATRatingLabels[rating]
}

// CSATReplyID returns the id of a survey choice, "csat:<survey id>:<rating>", which WhatsApp echoes
// back in the customer's list or button reply.
func CSATReplyID(surveyID int64, rating int) string {
	return "csat:" + strconv.FormatInt(surveyID, 10) + ":" + strconv.Itoa(rating)
}

// ParseCSATReplyID reads an id made by CSATReplyID.
func ParseCSATReplyID(id string) (surveyID int64, rating int, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(id), "csat:")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, ":")
	if !found {
		return 0, 0, false
	}
	sid, err1 := strconv.ParseInt(a, 10, 64)
	r, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || sid <= 0 || r < 1 || r > 5 {
		return 0, 0, false
	}
	return sid, r, true
}

// CSATReply is a customer message read as an answer to a survey. SurveyID is set when the reply
// names its survey (a tapped list row or button); a typed rating names none.
type CSATReply struct {
	Rating   int
	SurveyID int64
}

// ParseCSATRating reads a customer message as a 1–5 rating: a list or button reply to a survey, a
// bare digit ("5", "5/5", "5️⃣"), up to five stars ("⭐⭐⭐⭐⭐") or one face emoji ("😀" 5, "😞" 1).
// msgType and text are the stored message's; payload is Meta's message object.
func ParseCSATRating(msgType, text string, payload json.RawMessage) (rating int, ok bool) {
	r, ok := ParseCSATReply(msgType, text, payload)
	return r.Rating, ok
}

// ParseCSATReply is ParseCSATRating that also returns the survey a tapped choice names.
func ParseCSATReply(msgType, text string, payload json.RawMessage) (CSATReply, bool) {
	switch msgType {
	case TypeText:
		r, ok := ratingFromText(text)
		return CSATReply{Rating: r}, ok
	case "interactive", "button":
	default:
		return CSATReply{}, false
	}
	var w struct {
		Interactive *struct {
			ListReply   *replyChoice `json:"list_reply"`
			ButtonReply *replyChoice `json:"button_reply"`
		} `json:"interactive"`
		Button *struct {
			Payload string `json:"payload"`
			Text    string `json:"text"`
		} `json:"button"`
	}
	candidates := []replyChoice{{Title: text}}
	if len(payload) > 0 && json.Unmarshal(payload, &w) == nil {
		if in := w.Interactive; in != nil {
			for _, c := range []*replyChoice{in.ListReply, in.ButtonReply} {
				if c != nil {
					candidates = append([]replyChoice{*c}, candidates...)
				}
			}
		}
		if b := w.Button; b != nil {
			candidates = append([]replyChoice{{ID: b.Payload, Title: b.Text}}, candidates...)
		}
	}
	for _, c := range candidates {
		if sid, r, ok := ParseCSATReplyID(c.ID); ok {
			return CSATReply{Rating: r, SurveyID: sid}, true
		}
		if r, ok := ratingFromTitle(c.Title); ok {
			return CSATReply{Rating: r}, true
		}
	}
	return CSATReply{}, false
}

// replyChoice is the choice of a list or button reply.
type replyChoice struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ratingFromTitle reads a choice's title: a bare rating, or a label ("5 – Excellent", "Excellent").
func ratingFromTitle(title string) (int, bool) {
	if r, ok := ratingFromText(title); ok {
		return r, true
	}
	t := strings.TrimSpace(title)
	if r, size := utf8.DecodeRuneInString(t); r >= '1' && r <= '5' && len(t) > size {
		next, _ := utf8.DecodeRuneInString(t[size:])
		if !unicode.IsDigit(next) {
			return int(r - '0'), true
		}
	}
	for i := 1; i <= 5; i++ {
		if strings.EqualFold(t, CSATRatingLabels[i]) {
			return i, true
		}
	}
	return 0, false
}

// faceRatings maps single emoji to ratings.
var faceRatings = map[rune]int{
	'😡': 1, '😠': 1, '🤬': 1, '😞': 1, '😢': 1, '😭': 1, '😫': 1, '😩': 1, '👎': 1, '☹': 1,
	'🙁': 2, '😕': 2, '😟': 2, '😒': 2,
	'😐': 3, '😑': 3, '😶': 3,
	'🙂': 4, '😌': 4, '👌': 4,
	'😀': 5, '😃': 5, '😄': 5, '😁': 5, '😊': 5, '😍': 5, '🤩': 5, '🥰': 5, '🥳': 5, '👍': 5, '❤': 5, '💯': 5,
}

// ratingFromText reads a typed rating. Only a message that is nothing but a rating counts, so an
// ordinary sentence that contains a digit is never taken for an answer.
func ratingFromText(text string) (int, bool) {
	t := strings.Map(func(r rune) rune {
		switch {
		case r == 0xFE0F || r == 0xFE0E || r == 0x20E3: // emoji presentation selectors, keycap
			return -1
		case r >= 0x1F3FB && r <= 0x1F3FF: // skin tones
			return -1
		case unicode.IsSpace(r):
			return -1
		}
		return r
	}, text)
	t = strings.TrimRight(t, ".!")
	if t == "" {
		return 0, false
	}
	if base, ok := strings.CutSuffix(t, "/5"); ok {
		t = base
	}
	if len(t) == 1 && t[0] >= '1' && t[0] <= '5' {
		return int(t[0] - '0'), true
	}
	stars := 0
	for _, r := range t {
		if r != '⭐' && r != '🌟' && r != '★' {
			stars = 0
			break
		}
		stars++
	}
	if stars >= 1 && stars <= 5 {
		return stars, true
	}
	if r, size := utf8.DecodeRuneInString(t); size == len(t) {
		if rating, ok := faceRatings[r]; ok {
			return rating, true
		}
	}
	return 0, false
}

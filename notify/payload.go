package notify

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// body is the request body of ev in format f.
func body(f Format, ev Event) ([]byte, error) {
	if f == FormatSlack {
		return slackBody(ev)
	}
	return ev.JSON(), nil
}

// slackMessage is a Slack incoming-webhook payload: text is what notifications and clients
// without blocks show; the blocks repeat it with the details as a context line.
type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks,omitempty"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func slackBody(ev Event) ([]byte, error) {
	head := fmt.Sprintf("[%s] %s: %s", ev.Set, ev.Kind, ev.Summary)
	msg := slackMessage{
		Text: slackEscape(head),
		Blocks: []slackBlock{
			{Type: "section", Text: &slackText{Type: "mrkdwn", Text: fmt.Sprintf("*[%s] %s*\n%s", slackEscape(ev.Set), ev.Kind, slackEscape(ev.Summary))}},
		},
	}
	if d := details(ev); d != "" {
		msg.Text += " (" + slackEscape(d) + ")"
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: slackEscape(d)}}})
	}
	return json.Marshal(msg)
}

// details lists the event's other fields as "key: value" pairs.
func details(ev Event) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+": "+v)
		}
	}
	if ev.From != "" || ev.To != "" {
		add("primary", ev.From+" → "+ev.To)
	}
	if ev.Term != 0 {
		add("term", fmt.Sprint(ev.Term))
	}
	add("member", ev.Member)
	add("reason", ev.Reason)
	add("by", ev.Actor)
	add("sidecar", ev.Sidecar)
	for _, k := range slices.Sorted(maps.Keys(ev.Fields)) {
		add(k, ev.Fields[k])
	}
	return strings.Join(parts, ", ")
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

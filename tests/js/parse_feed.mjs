// Reads an iCalendar feed or invitation from stdin with ical.js and prints its METHOD and
// events as JSON: uid, summary, status, sequence, dtstamp, attendees, and start/end as UTC
// instants computed by ical.js from the calendar's own VTIMEZONE (not the system's zones).
import ICAL from "ical.js";

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;

const root = new ICAL.Component(ICAL.parse(input));
for (const vtimezone of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(vtimezone));
}
const events = root.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  return {
    uid: event.uid,
    summary: event.summary,
    status: component.getFirstPropertyValue("status"),
    sequence: event.sequence,
    dtstamp_utc: component.getFirstPropertyValue("dtstamp").toUnixTime(),
    attendees: event.attendees.map((attendee) => attendee.getFirstValue()),
    start_utc: event.startDate.toUnixTime(),
    end_utc: event.endDate.toUnixTime(),
    tzid: event.startDate.zone ? event.startDate.zone.tzid : null,
  };
});
process.stdout.write(
  JSON.stringify({
    name: root.getFirstPropertyValue("x-wr-calname"),
    method: root.getFirstPropertyValue("method"),
    events,
  }),
);

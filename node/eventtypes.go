package node

// EventTypes returns a zero value of every event type the node emits, one per
// event name: the one list a skin or a client decodes events against (the
// headless client builds its decoder from it, headless's docs test its event
// table). TestEventTypesListEveryEvent fails when a type with an EventName
// method is missing here.
func EventTypes() []Event {
	return []Event{
		Ready{}, PeerUp{}, PeerDown{}, PresenceChanged{}, QualityChanged{},
		MessageReceived{}, MessageDelivered{}, RoomMessage{}, MessagesRead{},
		MessageQueued{}, RoomUpdate{}, ErrorEvent{}, KeyChanged{},
		CallIncoming{}, CallState{}, CallStats{}, DTMF{},
		FileOffer{}, FileProgress{}, FileDone{}, FileFailed{},
		GuestRequest{}, GuestChanged{},
		UrgentMessage{}, AlertRaised{}, Acknowledged{}, UrgentCancelled{},
		PTTState{}, PTTBusy{},
	}
}

// EventNames are the names of EventTypes, in the same order.
func EventNames() []string {
	types := EventTypes()
	names := make([]string, len(types))
	for i, e := range types {
		names[i] = e.EventName()
	}
	return names
}

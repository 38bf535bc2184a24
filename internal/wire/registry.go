package wire

// The registry of Parley's number spaces: every link frame type, every peer-record
// extension type and every beacon extension type, with the package that owns it
// and the file that documents its bytes. The owning packages define their
// constants from these (const TypeRecord = wire.FrameRecord), so a number is
// chosen here and only here.
//
// It lives in wire because every codec already imports wire and wire imports
// nothing of the project, so no owner (overlay, chat, files, media/call,
// selection, discovery) gains a dependency or an import cycle by using it.
//
// A duplicate number cannot build: the tables below are arrays keyed by the
// constants, and Go rejects a duplicate index in an array literal. A constant left
// out of its table, an owner's range broken (overlay below FirstAppType, bulk
// lane at FirstBulkType and up) or a layout file that does not document the entry
// fails TestRegistry, which reads this file's constants with go/types.

// Frame types: the type byte of a link frame (overlay/doc.go, "# Frames"). The
// overlay's own frames are below FrameFirstApp; applications' from it up, and
// those from FrameFirstBulk up go on the bulk lane. Inner types of sealed frames
// (chat 18, files 30) reuse these numbers.
const (
	FramePing        uint8 = 1
	FramePong        uint8 = 2
	FrameRecord      uint8 = 3
	FrameRouted      uint8 = 4
	FrameSuperseded  uint8 = 5
	FrameProbe       uint8 = 6
	FrameProbeReport uint8 = 7
	FrameTeamProof   uint8 = 8
	FrameRecordHave  uint8 = 9
	FrameRecordWant  uint8 = 10
	FrameRecordPrune uint8 = 11

	// FrameFirstApp is the lowest type handed to registered handlers.
	FrameFirstApp uint8 = 16

	FrameChatMessage      uint8 = 16
	FrameChatAck          uint8 = 17
	FrameChatSealed       uint8 = 18
	FrameChatRead         uint8 = 19
	FrameChatCustody      uint8 = 20
	FrameChatCustodyAck   uint8 = 21
	FrameChatHandover     uint8 = 22
	FrameChatHandoverDone uint8 = 23
	FrameFileOffer        uint8 = 24
	FrameFileAnswer       uint8 = 25
	FrameFileQuery        uint8 = 26
	FrameFileHave         uint8 = 27
	FrameFileReq          uint8 = 28
	FrameFileSealed       uint8 = 30
	FrameCall             uint8 = 32
	FrameUrgent           uint8 = 33
	FrameAlert            uint8 = 34
	FramePTT              uint8 = 35
	FrameFarPing          uint8 = 36
	FrameFarPong          uint8 = 37

	// FrameFirstBulk is the first application type carried on the bulk lane.
	FrameFirstBulk uint8 = 64

	FrameFileChunk       uint8 = 64
	FrameFileSealedChunk uint8 = 65
)

// Peer-record extension types: [type u8][len u16][value] in a signed peer record
// (overlay/doc.go, the record layout).
const (
	RecordExtRooms  uint8 = 1
	RecordExtSelf   uint8 = 2
	RecordExtTeam   uint8 = 3
	RecordExtVia    uint8 = 4
	RecordExtWeb    uint8 = 5
	RecordExtGuests uint8 = 6
	RecordExtDevice uint8 = 7

	RecordExtCostMap uint8 = 8
)

// Beacon extension types: [type u8][len u8][value] in a discovery beacon
// (discovery/doc.go).
const (
	BeaconExtName uint8 = 1
	BeaconExtTeam uint8 = 2
)

// Entry describes one registered number.
type Entry struct {
	Name  string // the constant's name in this file
	Owner string // the package that encodes and decodes it, relative to the module
	// Layout is the file, relative to the module root, that documents the bytes,
	// and Mark a piece of text in it that introduces them.
	Layout, Mark string
}

// Frames lists every frame type by number; an empty Name is a free number.
var Frames = [256]Entry{
	FramePing:        {"FramePing", "overlay", "overlay/doc.go", "1 ping"},
	FramePong:        {"FramePong", "overlay", "overlay/doc.go", "2 pong"},
	FrameRecord:      {"FrameRecord", "overlay", "overlay/doc.go", "3 record"},
	FrameRouted:      {"FrameRouted", "overlay", "overlay/doc.go", "4 routed"},
	FrameSuperseded:  {"FrameSuperseded", "overlay", "overlay/doc.go", "5 superseded"},
	FrameProbe:       {"FrameProbe", "overlay", "overlay/doc.go", "6 probe"},
	FrameProbeReport: {"FrameProbeReport", "overlay", "overlay/doc.go", "7 probe report"},
	FrameTeamProof:   {"FrameTeamProof", "overlay", "overlay/doc.go", "8 team proof"},
	FrameRecordHave:  {"FrameRecordHave", "overlay", "overlay/doc.go", "9 record have"},
	FrameRecordWant:  {"FrameRecordWant", "overlay", "overlay/doc.go", "10 record want"},
	FrameRecordPrune: {"FrameRecordPrune", "overlay", "overlay/doc.go", "11 record prune"},

	FrameChatMessage:      {"FrameChatMessage", "chat", "chat/doc.go", "type 16  message"},
	FrameChatAck:          {"FrameChatAck", "chat", "chat/doc.go", "type 17  ack"},
	FrameChatSealed:       {"FrameChatSealed", "chat", "chat/doc.go", "type 18  sealed"},
	FrameChatRead:         {"FrameChatRead", "chat", "chat/doc.go", "type 19  read"},
	FrameChatCustody:      {"FrameChatCustody", "chat", "chat/custody.go", "type 20  custody"},
	FrameChatCustodyAck:   {"FrameChatCustodyAck", "chat", "chat/custody.go", "type 21  custody_ack"},
	FrameChatHandover:     {"FrameChatHandover", "chat", "chat/custody.go", "type 22  handover"},
	FrameChatHandoverDone: {"FrameChatHandoverDone", "chat", "chat/custody.go", "type 23  handover_done"},
	FrameFileOffer:        {"FrameFileOffer", "files", "files/doc.go", "type 24 offer"},
	FrameFileAnswer:       {"FrameFileAnswer", "files", "files/doc.go", "type 25 answer"},
	FrameFileQuery:        {"FrameFileQuery", "files", "files/doc.go", "type 26 query"},
	FrameFileHave:         {"FrameFileHave", "files", "files/doc.go", "type 27 have"},
	FrameFileReq:          {"FrameFileReq", "files", "files/doc.go", "type 28 request"},
	FrameFileSealed:       {"FrameFileSealed", "files", "files/doc.go", "type 30 sealed"},
	FrameCall:             {"FrameCall", "media/call", "media/call/doc.go", "frame type 32"},
	FrameUrgent:           {"FrameUrgent", "urgent", "urgent/doc.go", "type 33  urgent"},
	FrameAlert:            {"FrameAlert", "urgent", "urgent/doc.go", "type 34  alert"},
	FramePTT:              {"FramePTT", "talkgroup", "talkgroup/doc.go", "type 35  ptt"},
	FrameFarPing:          {"FrameFarPing", "linkquality", "linkquality/farping.go", "type 36 far ping"},
	FrameFarPong:          {"FrameFarPong", "linkquality", "linkquality/farping.go", "type 37 far pong"},

	FrameFileChunk:       {"FrameFileChunk", "files", "files/doc.go", "type 64 chunk"},
	FrameFileSealedChunk: {"FrameFileSealedChunk", "files", "files/doc.go", "type 65 sealed chunk"},
}

// RecordExts lists every peer-record extension type by number.
var RecordExts = [256]Entry{
	RecordExtRooms:  {"RecordExtRooms", "chat", "chat/rooms.go", "peer-record extension type carrying the rooms"},
	RecordExtSelf:   {"RecordExtSelf", "selection", "selection/doc.go", "# Self-metrics wire format"},
	RecordExtTeam:   {"RecordExtTeam", "overlay", "overlay/admit.go", "RecordExtTeam is the record extension"},
	RecordExtVia:    {"RecordExtVia", "node", "node/guestsrecord.go", "RecordExtVia (type 4)"},
	RecordExtWeb:    {"RecordExtWeb", "node", "node/webcert.go", "RecordExtWeb is the peer-record extension"},
	RecordExtGuests: {"RecordExtGuests", "node", "node/guestsrecord.go", "RecordExtGuests (type 6)"},
	RecordExtDevice: {"RecordExtDevice", "node", "node/devicesrecord.go", "RecordExtDevice (type 7)"},

	RecordExtCostMap: {"RecordExtCostMap", "selection", "selection/costmapwire.go", "# Signed cost-map wire format"},
}

// BeaconExts lists every beacon extension type by number.
var BeaconExts = [256]Entry{
	BeaconExtName: {"BeaconExtName", "discovery", "discovery/doc.go", "1 display name"},
	BeaconExtTeam: {"BeaconExtTeam", "discovery", "discovery/beacon.go", "extTeam carries a closed team's tag"},
}

// Package sip is the SIP skin (issue 19): a registrar and user agent that let
// desk phones and softphones (baresip, Linphone, Zoiper) join the overlay. A
// phone registers as user@<this node> with digest authentication (digest.go);
// each registered phone becomes a hosted node of this one (node.HostDevice),
// a peer like any other in every roster (sip: true, via this node). SIP
// MESSAGE maps onto that node's 1:1 chat (message.go) and calls onto its
// calls, the audio bridged by the node (node.SIPOffer and friends,
// media/rtpbridge).
//
// Like every skin it imports node (and identity) only, plus the SIP stack
// (github.com/emiago/sipgo, which parses SIP and keeps transactions).
//
// Hostile input is the normal case: requests from outside the LAN are
// refused, each source may send a bounded number of requests a second
// (limits.go), wrong passwords get 401 then 403 with back-off, bodies are
// bounded, and nothing is ever sent anywhere but a registered phone's
// contact, which must be on the LAN.
package sip

// Package vivaldi keeps a network coordinate per peer (Dabek, Cox, Kaashoek, Morris,
// "Vivaldi: A Decentralized Network Coordinate System", SIGCOMM 2004) so that the RTT
// between two peers that never measured each other can be estimated from their
// coordinates alone.
//
// A coordinate is a point in a 2-D Euclidean plane plus a height, all in
// milliseconds. The plane models the shared core of the network (switches, the
// wired backbone between access points); the height models the access link a
// peer's packets always cross (a Wi-Fi hop, a slow NIC), which is why the height is
// added rather than taken as a third Euclidean axis: two laptops in the same cell
// are not "close" if both sit behind 5 ms of air. The estimated RTT is
//
//	‖(x₁,y₁) − (x₂,y₂)‖ + h₁ + h₂
//
// Each coordinate also carries its own relative error estimate (0 = perfect,
// [MaxError] = knows nothing). [Coord.Update] moves a coordinate after one RTT sample
// against a remote coordinate with the adaptive timestep of the paper: a node that is
// unsure of itself and hears from a confident node moves a lot; a confident node that
// hears from an unsure one barely moves. Samples should be smoothed first; [Filter]
// is a moving median that keeps single outliers (a Wi-Fi power-save wake-up, a GC
// pause) from throwing a converged coordinate around.
//
// # Wire format
//
// A coordinate travels in peer records as 16 bytes, four IEEE 754 float32 values,
// big-endian (float32 because sub-microsecond precision is meaningless here and the
// record is flooded to every peer):
//
//	off  len  field
//	0    4    X, ms
//	4    4    Y, ms
//	8    4    height, ms (≥ 0)
//	12   4    error estimate (0 ≤ e ≤ MaxError)
//
// [Decode] rejects NaN, infinities, a negative height and an error outside
// [0, MaxError]; every accepted encoding re-encodes to the same bytes.
package vivaldi

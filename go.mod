module parley

go 1.26.0

require (
	filippo.io/edwards25519 v1.2.0
	github.com/hashicorp/mdns v1.0.7
	go.etcd.io/bbolt v1.5.0
	golang.org/x/net v0.48.0
	golang.org/x/sys v0.49.0
)

require (
	github.com/miekg/dns v1.1.72 // indirect
	golang.org/x/mod v0.31.0 // indirect
	golang.org/x/sync v0.20.0 // indirect
	golang.org/x/tools v0.40.0 // indirect
)

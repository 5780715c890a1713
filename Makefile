# The README's commands. `make test` is the whole test suite: it installs
# the Node packages of the Fedify interop peer and of the Digital Bazaar
# credential verifier (npm ci, from their package-lock.json)
# and runs every Go test; the tests start their own PostgreSQL.

.PHONY: run test bench build

run:
	go run ./cmd/colearn serve --dev

test: interop/fedify/node_modules interop/vc/node_modules
	go test -timeout=20m ./...

interop/fedify/node_modules: interop/fedify/package-lock.json
	npm ci --prefix interop/fedify --no-audit --no-fund
	touch interop/fedify/node_modules

interop/vc/node_modules: interop/vc/package-lock.json
	npm ci --prefix interop/vc --no-audit --no-fund
	touch interop/vc/node_modules

build:
	go build -o colearn ./cmd/colearn

bench:
	go test -run='^$$' -bench=VerifyRatio -benchtime=2s ./inbox/
	go test -run='^$$' -bench=InboxAccept -benchtime=1x ./inbox/
	go test -run='^$$' -bench=GET -benchtime=100000x ./cmd/colearn/
	go test -run='^$$' -bench=PostStampede -benchtime=5x ./cmd/colearn/
	go test -run='^$$' -bench=Fanout -benchtime=3x ./outbox/
	go test -run='^$$' -bench=InboxLoad -benchtime=1x -timeout=1h ./cmd/inboxload/
	go test -run='^$$' -bench=InboxFloor -benchtime=1x -timeout=1h ./cmd/inboxload/
	go test -run='^$$' -bench=InboxRetentionDisk -benchtime=1x ./inbox/
	go test -run='^$$' -bench=Credentials -benchtime=2000x ./federation/credential/

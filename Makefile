# The README's commands. `make test` is the whole test suite: it installs
# the Fedify interop peer's Node packages (npm ci, from package-lock.json)
# and runs every Go test; the tests start their own PostgreSQL.

.PHONY: run test bench build

run:
	go run ./cmd/colearn serve --dev

test: interop/fedify/node_modules
	go test ./...

interop/fedify/node_modules: interop/fedify/package-lock.json
	npm ci --prefix interop/fedify --no-audit --no-fund
	touch interop/fedify/node_modules

build:
	go build -o colearn ./cmd/colearn

bench:
	go test -run='^$$' -bench=VerifyRatio -benchtime=2s ./inbox/
	go test -run='^$$' -bench=InboxAccept -benchtime=1x ./inbox/
	go test -run='^$$' -bench=GET -benchtime=100000x ./cmd/colearn/
	go test -run='^$$' -bench=PostStampede -benchtime=5x ./cmd/colearn/
	go test -run='^$$' -bench=Fanout -benchtime=3x ./outbox/
	go test -run='^$$' -bench=InboxLoad -benchtime=1x -timeout=1h ./cmd/inboxload/

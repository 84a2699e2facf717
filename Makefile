# Every target delegates to an npm script, so `make X` and `npm run X` never drift apart.
.PHONY: install start chat test check lint typecheck format proto bench-runtime

install:
	npm install

start:
	npm start

chat:
	npm run chat

## format + lint + typecheck + every test
check test:
	npm test

lint:
	npm run lint

typecheck:
	npm run typecheck

format:
	npm run format

## regenerate proto/gen from proto/parley/v1/*.proto (ts-proto through buf)
proto:
	npm run proto

bench-runtime:
	npm run bench:runtime

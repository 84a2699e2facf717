# Every target delegates to an npm script, so `make X` and `npm run X` never drift apart.
.PHONY: install start chat test check lint typecheck format proto model bench-runtime bench-nlu bench-inference bench-cluster bench-store

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

## train the installed skills' intent model into ./data/models if their examples changed (npm install runs it)
model:
	npm run model

bench-runtime:
	npm run bench:runtime

## CLINC150: Parley FP32 and INT8 beside NLP.js, in one run
bench-nlu:
	npm run bench:nlu

## the inference service: no batching vs dynamic batching, FP32 and INT8, gRPC and in-process, beside the machine's ceilings
bench-inference:
	npm run bench:inference

## the cluster: 1 and 3 core nodes over NATS beside raw JetStream, and the failover time after kill -9
bench-cluster:
	npm run bench:cluster

## the store: Postgres CPU a recorded turn by turns a statement, the append planned at each call vs once a connection
bench-store:
	npm run bench:store

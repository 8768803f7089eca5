# Training targets for the HAMburger adapter (included from the top-level Makefile).
#   make train        the full run: prompts (self-instruct + templates), responses, training, export, evaluation,
#                     report inputs, parity fixture
#   make train-smoke  a short run on a few prompts that exercises every stage (outputs in training/runs/smoke)
# Knobs: TRAIN_TOTAL (training prompts), SI_ROUNDS, SI_BUDGET, TRAIN_TOKENS, TRAIN_DATA_BUDGET, TRAIN_BUDGET
# (seconds), TRAIN_TAU, TRAIN_CALIB, TRAIN_ARGS (e.g. --init-from models/hamburger-smollm2-135m.json).

TRAIN_VENV ?= .venv-train
TRAIN_PY ?= $(TRAIN_VENV)/bin/python
TRAIN_RUN ?= training/runs/full
TRAIN_PROMPTS ?= 4200
TRAIN_TOTAL ?= 21000
SI_ROUNDS ?= 3
SI_BUDGET ?= 14400
TRAIN_TOKENS ?= 64
TRAIN_DATA_BUDGET ?= 14400
TRAIN_BUDGET ?= 21600
TRAIN_TAU ?= 0.5
TRAIN_CALIB ?= 0.5
TRAIN_ARGS ?=
ADAPTER ?= models/hamburger-smollm2-135m
# TRAIN_PROMPTS: the committed run's prompt count; it defines the held-out evaluation prompts (datagen.split_prompts)
EVAL_ARGS = --adapter $(ADAPTER).json --n-train-prompts $(TRAIN_PROMPTS) --n-prompts 100 --max-new-tokens 32 --qa-tokens 16
HB = PYTHONPATH=training OMP_NUM_THREADS=1 $(TRAIN_PY) -m hamburger_train
# run two commands side by side and fail if either failed (waiting on each pid)
BOTH = r0=0; r1=0; wait $$p0 || r0=$$?; wait $$p1 || r1=$$?; test $$r0 -eq 0 -a $$r1 -eq 0

.PHONY: train train-smoke train-venv

train-venv: setup
	@bash scripts/python-test.sh --install-only

train: train-venv
	mkdir -p $(TRAIN_RUN)
	$(HB).selfinstruct generate --out $(TRAIN_RUN)/selfinstruct-raw-0.jsonl --shard 0/2 --rounds $(SI_ROUNDS) \
	    --time-budget $(SI_BUDGET) & p0=$$!; \
	$(HB).selfinstruct generate --out $(TRAIN_RUN)/selfinstruct-raw-1.jsonl --shard 1/2 --rounds $(SI_ROUNDS) \
	    --time-budget $(SI_BUDGET) & p1=$$!; \
	$(BOTH)
	$(HB).selfinstruct build --raw $(TRAIN_RUN)/selfinstruct-raw-*.jsonl --out $(TRAIN_RUN)/selfinstruct.jsonl
	$(HB).sources --selfinstruct $(TRAIN_RUN)/selfinstruct.jsonl --total $(TRAIN_TOTAL) \
	    --out $(TRAIN_RUN)/prompts.jsonl --heldout $(TRAIN_RUN)/heldout.jsonl
	$(HB).datagen --out $(TRAIN_RUN)/data-0.jsonl --prompts-file $(TRAIN_RUN)/prompts.jsonl --max-new-tokens $(TRAIN_TOKENS) \
	    --shard 0/2 --time-budget $(TRAIN_DATA_BUDGET) & p0=$$!; \
	$(HB).datagen --out $(TRAIN_RUN)/data-1.jsonl --prompts-file $(TRAIN_RUN)/prompts.jsonl --max-new-tokens $(TRAIN_TOKENS) \
	    --shard 1/2 --time-budget $(TRAIN_DATA_BUDGET) & p1=$$!; \
	$(BOTH)
	OMP_WAIT_POLICY=PASSIVE $(HB).train --run $(TRAIN_RUN) --time-budget $(TRAIN_BUDGET) --tau $(TRAIN_TAU) --resume \
	    --threads 2 --micro-updates 4 --decay-last 0.5 --calib-mix $(TRAIN_CALIB) --val 64 $(TRAIN_ARGS)
	$(HB).export --ckpt $(TRAIN_RUN)/best.pt --out $(ADAPTER) --confidence 0.9
	$(HB).evaluate run $(EVAL_ARGS) --configs base,0.5,0.65,0.8,0.95 --out $(TRAIN_RUN)/eval-a.json & p0=$$!; \
	$(HB).evaluate run $(EVAL_ARGS) --configs 0.6,0.7,0.75,0.9 --out $(TRAIN_RUN)/eval-b.json & p1=$$!; \
	$(BOTH)
	$(HB).evaluate report --inputs $(TRAIN_RUN)/eval-a.json $(TRAIN_RUN)/eval-b.json --md $(TRAIN_RUN)/eval.md \
	    --json $(TRAIN_RUN)/eval-summary.json --png training/report-curve.png
	$(HB).export --ckpt $(TRAIN_RUN)/best.pt --out $(ADAPTER) --confidence-from $(TRAIN_RUN)/eval-summary.json
	$(HB).generate --adapter $(ADAPTER).json --max-new-tokens 48 --threads 2 --fixture Tests/Fixtures/hamburger-greedy.json

SMOKE = training/runs/smoke
train-smoke: train-venv
	rm -rf $(SMOKE) && mkdir -p $(SMOKE)
	$(HB).selfinstruct generate --out $(SMOKE)/selfinstruct-raw-0.jsonl --limit 4 --batch-size 4 --max-new-tokens 48
	$(HB).selfinstruct build --raw $(SMOKE)/selfinstruct-raw-0.jsonl --out $(SMOKE)/selfinstruct.jsonl
	$(HB).sources --selfinstruct $(SMOKE)/selfinstruct.jsonl --total 4400 --out $(SMOKE)/prompts.jsonl \
	    --heldout $(SMOKE)/heldout.jsonl
	$(HB).datagen --out $(SMOKE)/data-0.jsonl --prompts-file $(SMOKE)/prompts.jsonl --limit 12 --max-new-tokens 24 \
	    --batch-size 6
	$(HB).train --run $(SMOKE) --time-budget 20 --max-steps 4 --batch-size 2 --val 2 --eval-every 2 --calib-mix 0.5 \
	    --init-from $(ADAPTER).json --grow-lora-rank 20
	$(HB).export --ckpt $(SMOKE)/best.pt --out $(SMOKE)/adapter --confidence 0.9
	$(HB).evaluate run --adapter $(SMOKE)/adapter.json --n-train-prompts 12 --configs base,0.5,0.9 \
	    --n-prompts 2 --n-qa 2 --max-new-tokens 12 --qa-tokens 8 --out $(SMOKE)/eval.json
	$(HB).evaluate report --inputs $(SMOKE)/eval.json --md $(SMOKE)/eval.md --json $(SMOKE)/eval-summary.json \
	    --png $(SMOKE)/curve.png --samples 1
	$(HB).export --ckpt $(SMOKE)/best.pt --out $(SMOKE)/adapter --confidence-from $(SMOKE)/eval-summary.json
	$(HB).generate --adapter $(SMOKE)/adapter.json --max-new-tokens 12 --prompt "What is 2 + 2?" \
	    --fixture $(SMOKE)/fixture.json
	@echo "train-smoke: every stage ran; outputs in $(SMOKE)"

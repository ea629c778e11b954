# casegate: every target installs what it needs first, so each works on a fresh clone.
UV := python3 -m uv
RUN := $(UV) run --frozen
PACKAGES := gateway connectors mappings canonical policies

.PHONY: install demo test bench lint format serve clean

install: .venv/.installed

.venv/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $@

demo: install
	$(RUN) casegate demo

test: install
	$(RUN) ruff check $(PACKAGES) tests bench
	$(RUN) ruff format --check $(PACKAGES) tests bench
	$(RUN) mypy
	$(RUN) casegate policy test
	$(RUN) pytest

bench: install
	$(RUN) python -m bench

lint: install
	$(RUN) ruff check $(PACKAGES) tests bench
	$(RUN) ruff format --check $(PACKAGES) tests bench
	$(RUN) mypy

format: install
	$(RUN) ruff format $(PACKAGES) tests bench
	$(RUN) ruff check --fix $(PACKAGES) tests bench

serve: install
	$(RUN) casegate serve

clean:
	rm -rf .venv var .pytest_cache .mypy_cache .ruff_cache

from esign.migrations import run_env
from services.applications.adapters.orm import metadata

run_env(metadata)

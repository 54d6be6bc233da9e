"""Grounded generation, once for every kind of job that writes cited text from a patient's
chart (a summary, a nurse's draft): the job's fields (models.GenerationJob), its sources
(sources.py), the backend call and its record (calls.py), and the job's life (jobs.py).

Not an installed app: it holds no concrete model. The backends, prompts, sections and the
verifier stay in clinsum.summaries, as the design's map has them."""

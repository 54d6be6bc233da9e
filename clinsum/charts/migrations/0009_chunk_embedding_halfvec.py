import pgvector.django.halfvec
from django.db import migrations


class Migration(migrations.Migration):
    """Chunk embeddings as halfvec: 2 bytes a dimension instead of 4 (768 B less per 384-dim
    chunk), with the same recall@10 for exact per-patient search on the retrieval bench
    (bench/README.md). The column keeps no fixed dimension: a re-embedding with a model of another
    size writes into the same column. Reversible (halfvec -> vector is exact; the float32 digits
    rounded away on the way in do not come back). Rewrites the table under an exclusive lock:
    minutes per 10 million chunks, so run it in a maintenance window on a large install."""

    dependencies = [("charts", "0008_note_embedding_tries")]

    operations = [
        migrations.AlterField(
            model_name="chunk",
            name="embedding",
            field=pgvector.django.halfvec.HalfVectorField(null=True),
        ),
    ]

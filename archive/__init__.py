"""The domain: patients, records, users, policy, audit, coding, assistant, stats, CLI.

The only place that decides who may see what. Importing it loads neither textual nor torch.
"""

// Module Engine: requests, sequences, scheduler, sampler, engine thread.

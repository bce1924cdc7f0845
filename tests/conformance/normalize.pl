#!/usr/bin/perl
# SPDX-License-Identifier: MIT
#
# tests/conformance/normalize.pl: turn one mfscenario run (its transcript,
# its exit status and the kernel's or memfaild's log lines) into the form
# kept in tests/golden/PROFILE/NAME.txt.
#
#   normalize.pl oracle RAW OUTDIR
#       split the oracle's extra-programs output (run.sh with ORACLE_EXTRA)
#       into OUTDIR/NAME.txt, one per "mfscenario run NAME" invocation
#   normalize.pl memfail TRANSCRIPT LOGFILE RC
#       one run under `memfail run --log-file LOGFILE`; RC is its exit code;
#       prints the normalized transcript
#
# What normalization does:
#   - drops the "role NAME pid=N map=0xADDR+0xLEN" lines, after using them:
#   - "comm:PID" in log lines becomes "comm:ROLE" ("comm:?" if no role has it);
#   - a user address becomes ROLE+0xOFF (offset in that role's mapping);
#   - a pfn becomes PFN(ROLE+0xOFF): the mapping offset it backs, from the
#     first "pfn 0x.. at process virtual address 0x.." line of the run;
#   - keeps only the memory-failure log lines (see keep_log), without the
#     timestamp, each prefixed with "log: ".
use strict;
use warnings;
no warnings "portable";	# 64-bit addresses and pfns

sub keep_log {
	my ($l) = @_;
	return $l =~ /^(Injecting memory failure|Soft offlining|Memory failure: |Kernel panic)/;
}

sub normalize {
	my ($tr, $log, $status) = @_;
	my (%pid_role, @maps, @out);

	for my $l (@$tr) {
		if ($l =~ /^role (\S+) pid=(\d+) map=(0x[0-9a-f]+)\+(0x[0-9a-f]+)/) {
			$pid_role{$2} = $1;
			push @maps, [$1, hex($3), hex($4)] if hex($3);
			next;
		}
		push @out, $l;
	}
	push @out, "status $status";

	my $where = sub {
		my ($va) = @_;
		for my $m (@maps) {
			return sprintf("%s+0x%x", $m->[0], $va - $m->[1])
				if $va >= $m->[1] && $va < $m->[1] + $m->[2];
		}
		return "ADDR";
	};
	my ($ref, $base_pfn);
	for my $l (@$log) {
		next unless $l =~ /pfn (0x[0-9a-f]+) at process virtual address (0x[0-9a-f]+)/;
		my ($pfn, $va) = (hex($1), hex($2));
		for my $m (@maps) {
			next unless $va >= $m->[1] && $va < $m->[1] + $m->[2];
			$ref = $m->[0];
			$base_pfn = $pfn - (($va - $m->[1]) >> 12);
			last;
		}
		last if defined $ref;
	}
	my $pfn = sub {
		my ($p) = @_;
		return "PFN" unless defined $ref;
		my $d = $p - $base_pfn;
		return sprintf("PFN(%s%s0x%x)", $ref, $d < 0 ? "-" : "+", abs($d) << 12);
	};
	for my $l (@$log) {
		next unless keep_log($l);
		$l =~ s/(pfn )(0x[0-9a-f]+)/$1 . $pfn->(hex($2))/ge;
		$l =~ s/^(Memory failure: )(0x[0-9a-f]+):/$1 . $pfn->(hex($2)) . ":"/e;
		$l =~ s/(Unable to find user space address )([0-9a-f]+)/$1 . $pfn->(hex($2))/e;
		$l =~ s/(virtual address )(0x[0-9a-f]+)/$1 . $where->(hex($2))/ge;
		$l =~ s/(\S+):(\d+)( due to| because|$)/"$1:" . ($pid_role{$2} \/\/ "?") . $3/ge;
		push @out, "log: $l";
	}
	return join("", map { "$_\n" } @out);
}

sub slurp {
	my ($f) = @_;
	open(my $fh, '<', $f) or die "$f: $!\n";
	my @l = <$fh>;
	chomp @l;
	return @l;
}

my $mode = shift // '';
if ($mode eq 'memfail' && @ARGV == 3) {
	my ($trf, $logf, $rc) = @ARGV;
	my @tr = slurp($trf);
	my @log = -e $logf ? slurp($logf) : ();
	# memfaild's lines start with the dmesg-style "[    0.015823] "
	s/^\[\s*\d+\.\d+\] // for @log;
	print normalize(\@tr, \@log, "exited $rc");
} elsif ($mode eq 'oracle' && @ARGV == 2) {
	my ($raw, $outdir) = @ARGV;
	my ($name, $sysctl, $status, @tr, @log);
	my $n = 0;
	for my $l (slurp($raw)) {
		if ($l =~ /^--- BEGIN \d+: .*\bmfscenario run (\S+)/) {
			($name, $sysctl, $status, @tr, @log) = ($1, undef, "unknown");
			@tr = ();
			@log = ();
		} elsif (!defined $name) {
			next;
		} elsif ($l =~ /^--- sysctl vm\.memory_failure_early_kill=(\S+)/) {
			$sysctl = $1;
		} elsif ($l =~ /^--- status \d+: (.*)$/) {
			$status = $1;
		} elsif ($l =~ /^--- kmsg: (.*)$/) {
			push @log, $1;
		} elsif ($l =~ /^--- END /) {
			# the transcript says what it was told; the guest says what it was
			my ($ek) = map { /^early_kill (\S+)/ ? $1 : () } @tr;
			if (!defined $ek || !defined $sysctl || $ek ne $sysctl) {
				warn "$name: sysctl early_kill=" . ($sysctl // '?') .
				     " but the transcript says " . ($ek // '?') . "\n";
				push @tr, "error: vm.memory_failure_early_kill was " . ($sysctl // '?');
			}
			open(my $fh, '>', "$outdir/$name.txt") or die "$outdir/$name.txt: $!\n";
			print $fh normalize(\@tr, \@log, $status);
			close($fh);
			$n++;
			undef $name;
		} elsif ($l !~ /^--- /) {
			push @tr, $l;
		}
	}
	print STDERR "normalize.pl: wrote $n scenario(s) to $outdir\n";
	exit($n ? 0 : 1);
} else {
	print STDERR "usage: normalize.pl oracle RAW OUTDIR\n" .
		     "       normalize.pl memfail TRANSCRIPT LOGFILE RC\n";
	exit(2);
}
